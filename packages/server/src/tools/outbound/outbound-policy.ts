// Which addresses outbound requests (actions, browsing) may reach: public internet addresses,
// plus whatever an administrator allows (ATELIER_OUTBOUND_ALLOW): single addresses, CIDR ranges,
// host names and `*.domain` wildcards. Everything else that is not public is refused.

import { ConfigError } from '../../errors.js';
import {
  embeddedIpv4,
  type IpAddress,
  type IpRange,
  inRange,
  nonPublicReason,
  parseIpAddress,
  parseIpRange,
} from './ip-address.js';

export interface OutboundPolicy {
  /**
   * Null when a request to `hostname` may connect to `address` (one of the addresses the host
   * name resolved to, or the literal address in the URL), else the reason it may not.
   */
  refusal(target: { readonly hostname: string; readonly address: IpAddress }): string | null;
  /** The allow-list as given, for messages and logs. */
  readonly allowed: readonly string[];
}

/** Splits an allow-list setting (`'127.0.0.1, 10.0.0.0/8 intranet.example'`) into its entries. */
export function parseAllowList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

const HOST_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.?$/;

/** A description of what is wrong with an allow-list entry, or null when it is valid. */
export function allowListEntryProblem(entry: string): string | null {
  if (entry.includes('/') || parseIpAddress(entry) || /^[\d.]+$/.test(entry)) {
    return parseIpRange(entry) ? null : 'not a valid IP address or CIDR range';
  }
  return HOST_NAME.test(entry.toLowerCase()) ? null : 'not a valid host name, IP address or CIDR range';
}

export function createOutboundPolicy({ allow = [] }: { allow?: readonly string[] } = {}): OutboundPolicy {
  const ranges: IpRange[] = [];
  const hosts = new Set<string>();
  const suffixes: string[] = [];
  for (const entry of allow) {
    const problem = allowListEntryProblem(entry);
    if (problem) {
      throw new ConfigError(`Invalid configuration: ATELIER_OUTBOUND_ALLOW: "${entry}" is ${problem}`);
    }
    const range = parseIpRange(entry);
    if (range) ranges.push(range);
    else if (entry.startsWith('*.')) suffixes.push(normalizeHost(entry.slice(1)));
    else hosts.add(normalizeHost(entry));
  }
  const hostAllowed = (hostname: string) => {
    const host = normalizeHost(hostname);
    return hosts.has(host) || suffixes.some((suffix) => host.endsWith(suffix));
  };
  const addressAllowed = (address: IpAddress) => {
    const candidates = [address, embeddedIpv4(address)].filter((value) => value !== null);
    return candidates.some((candidate) => ranges.some((range) => inRange(candidate, range)));
  };
  const policy: OutboundPolicy = {
    allowed: Object.freeze([...allow]),
    refusal({ hostname, address }) {
      const reason = nonPublicReason(address);
      if (reason === null || hostAllowed(hostname) || addressAllowed(address)) return null;
      return `${address.text} is ${reason}`;
    },
  };
  return Object.freeze(policy);
}

function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}
