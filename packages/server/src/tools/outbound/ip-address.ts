// IP addresses as outbound requests see them: parsed to bytes, matched against CIDR ranges, and
// classified as public internet or as something no tool may reach by default (this machine,
// private networks, link-local and cloud metadata, CGNAT, multicast, reserved space).

import { isIP } from 'node:net';

export interface IpAddress {
  readonly family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
  /** The canonical text form (IPv6 without brackets or zone). */
  readonly text: string;
}

export interface IpRange {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

/** The address in `text` (IPv4 dotted quad, or IPv6 with or without brackets), or null. */
export function parseIpAddress(text: string): IpAddress | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  // A zone (fe80::1%eth0) names an interface of this machine: never an internet address.
  if (bare.includes('%')) return null;
  const family = isIP(bare);
  if (family === 4) {
    const bytes = Uint8Array.from(bare.split('.').map(Number));
    return { family: 4, bytes, text: bare };
  }
  if (family === 6) {
    const bytes = ipv6Bytes(bare);
    return bytes ? { family: 6, bytes, text: formatIpv6(bytes) } : null;
  }
  return null;
}

/** A range in CIDR notation (`10.0.0.0/8`, `fd00::/8`) or a single address; null when invalid. */
export function parseIpRange(text: string): IpRange | null {
  const slash = text.indexOf('/');
  const address = parseIpAddress(slash < 0 ? text : text.slice(0, slash));
  if (!address) return null;
  const max = address.family === 4 ? 32 : 128;
  if (slash < 0) return { family: address.family, bytes: address.bytes, prefix: max };
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > max) return null;
  return { family: address.family, bytes: address.bytes, prefix };
}

export function inRange(address: IpAddress, range: IpRange): boolean {
  if (address.family !== range.family) return false;
  let bits = range.prefix;
  for (let index = 0; bits > 0; index++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((address.bytes[index] ?? 0) & mask) !== ((range.bytes[index] ?? 0) & mask)) return false;
  }
  return true;
}

/**
 * The IPv4 address an IPv6 address carries (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`,
 * 6to4 `2002::/16`), or null.
 */
export function embeddedIpv4(address: IpAddress): IpAddress | null {
  if (address.family !== 6) return null;
  const take = (from: number) => {
    const bytes = address.bytes.slice(from, from + 4);
    return { family: 4 as const, bytes, text: bytes.join('.') };
  };
  if (inRange(address, MAPPED)) return take(12);
  if (inRange(address, NAT64)) return take(12);
  if (inRange(address, SIX_TO_FOUR)) return take(2);
  return null;
}

/**
 * Why a request must not go to `address` by default ("loopback", "a private network", …), or
 * null when it is a public internet address.
 */
export function nonPublicReason(address: IpAddress): string | null {
  if (address.family === 4) return ipv4Reason(address);
  if (inRange(address, MAPPED)) {
    // A resolver has no business returning one; refused whatever it carries (an allow-list
    // entry for the IPv4 address still permits it, see outbound-policy.ts).
    return 'an IPv4-mapped IPv6 address';
  }
  for (const [range, reason] of IPV6_RANGES) if (inRange(address, range)) return reason;
  const carried = embeddedIpv4(address);
  if (carried) {
    const inner = ipv4Reason(carried);
    return inner ? `${inner} (inside an IPv6 address)` : null;
  }
  // Everything outside 2000::/3 is not global unicast.
  return (address.bytes[0]! & 0xe0) === 0x20 ? null : 'reserved IPv6 space';
}

function ipv4Reason(address: IpAddress): string | null {
  for (const [range, reason] of IPV4_RANGES) if (inRange(address, range)) return reason;
  return null;
}

function range(text: string): IpRange {
  const parsed = parseIpRange(text);
  if (!parsed) throw new Error(`invalid built-in range ${text}`);
  return parsed;
}

const MAPPED = range('::ffff:0:0/96');
const NAT64 = range('64:ff9b::/96');
const SIX_TO_FOUR = range('2002::/16');

// Most specific first: the first match names the reason.
const IPV4_RANGES: readonly (readonly [IpRange, string])[] = [
  [range('169.254.169.254/32'), 'the cloud metadata service'],
  [range('100.100.100.200/32'), 'the cloud metadata service'],
  [range('0.0.0.0/8'), 'the unspecified address ("this network")'],
  [range('10.0.0.0/8'), 'a private network'],
  [range('100.64.0.0/10'), 'shared address space (carrier-grade NAT)'],
  [range('127.0.0.0/8'), 'loopback (this machine)'],
  [range('169.254.0.0/16'), 'a link-local address'],
  [range('172.16.0.0/12'), 'a private network'],
  [range('192.0.0.0/24'), 'IETF protocol assignments'],
  [range('192.0.2.0/24'), 'documentation space'],
  [range('192.88.99.0/24'), 'the 6to4 relay anycast'],
  [range('192.168.0.0/16'), 'a private network'],
  [range('198.18.0.0/15'), 'benchmarking space'],
  [range('198.51.100.0/24'), 'documentation space'],
  [range('203.0.113.0/24'), 'documentation space'],
  [range('224.0.0.0/4'), 'multicast'],
  [range('240.0.0.0/4'), 'reserved space (or broadcast)'],
];

const IPV6_RANGES: readonly (readonly [IpRange, string])[] = [
  [range('::/128'), 'the unspecified address'],
  [range('::1/128'), 'loopback (this machine)'],
  [range('::/96'), 'an IPv4-compatible IPv6 address'],
  [range('fd00:ec2::254/128'), 'the cloud metadata service'],
  [range('64:ff9b:1::/48'), 'a private NAT64 prefix'],
  [range('100::/64'), 'the discard prefix'],
  [range('2001::/32'), 'a Teredo tunnel address'],
  [range('2001:db8::/32'), 'documentation space'],
  [range('2001:10::/28'), 'IETF protocol assignments'],
  [range('2001:20::/28'), 'IETF protocol assignments'],
  [range('fc00::/7'), 'a private network (unique local address)'],
  [range('fe80::/10'), 'a link-local address'],
  [range('fec0::/10'), 'a site-local address'],
  [range('ff00::/8'), 'multicast'],
];

function ipv6Bytes(text: string): Uint8Array | null {
  let head = text;
  const tailBytes: number[] = [];
  // A trailing dotted quad (::ffff:1.2.3.4) fills the last 32 bits.
  const lastColon = head.lastIndexOf(':');
  const last = head.slice(lastColon + 1);
  if (last.includes('.')) {
    if (isIP(last) !== 4) return null;
    tailBytes.push(...last.split('.').map(Number));
    head = `${head.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const left = groups(halves[0]);
  const right = groups(halves[1]);
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return null;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  const bytes = new Uint8Array(16);
  for (const [index, group] of all.entries()) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    const value = Number.parseInt(group, 16);
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 0xff;
  }
  if (tailBytes.length === 4) bytes.set(tailBytes, 12);
  return bytes;
}

function formatIpv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let index = 0; index < 16; index += 2) groups.push((bytes[index]! << 8) | bytes[index + 1]!);
  // Compress the longest run of zero groups (RFC 5952).
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; ) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
