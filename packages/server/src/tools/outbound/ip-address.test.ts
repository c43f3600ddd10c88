import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/config.js';
import { nonPublicReason, parseIpAddress } from './ip-address.js';
import { allowListEntryProblem, createOutboundPolicy, parseAllowList } from './outbound-policy.js';

const reason = (text: string) => {
  const address = parseIpAddress(text);
  if (!address) throw new Error(`unparsable test address ${text}`);
  return nonPublicReason(address);
};

describe('address classification', () => {
  it.each([
    ['127.0.0.1', /loopback/],
    ['127.8.9.10', /loopback/],
    ['10.20.30.40', /private network/],
    ['172.16.0.1', /private network/],
    ['172.31.255.255', /private network/],
    ['192.168.1.1', /private network/],
    ['169.254.169.254', /cloud metadata/],
    ['169.254.10.1', /link-local/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.100.100.200', /cloud metadata/],
    ['0.0.0.0', /unspecified/],
    ['224.0.0.251', /multicast/],
    ['255.255.255.255', /reserved/],
    ['198.18.0.1', /benchmarking/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['[::1]', /loopback/],
    ['::ffff:127.0.0.1', /IPv4-mapped/],
    ['::ffff:8.8.8.8', /IPv4-mapped/],
    ['::ffff:7f00:1', /IPv4-mapped/],
    ['64:ff9b::10.0.0.1', /private network \(inside an IPv6 address\)/],
    ['2002:a9fe:a9fe::1', /cloud metadata service \(inside an IPv6 address\)/],
    ['fd00:ec2::254', /cloud metadata/],
    ['fc00::1', /unique local/],
    ['fe80::1', /link-local/],
    ['ff02::1', /multicast/],
    ['2001:db8::1', /documentation/],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', /Teredo/],
  ])('refuses %s', (text, expected) => {
    expect(reason(text)).toMatch(expected);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '64:ff9b::808:808'])(
    'lets public %s through',
    (text) => {
      expect(reason(text)).toBeNull();
    },
  );

  it('does not parse what is not an address (or an address with a zone)', () => {
    expect(parseIpAddress('example.com')).toBeNull();
    expect(parseIpAddress('256.1.1.1')).toBeNull();
    expect(parseIpAddress('fe80::1%eth0')).toBeNull();
    expect(parseIpAddress('::ffff:127.0.0.1')?.text).toBe('::ffff:7f00:1');
  });
});

describe('outbound policy', () => {
  const loopback = parseIpAddress('127.0.0.1')!;
  const privateAddress = parseIpAddress('10.1.2.3')!;

  it('refuses non-public addresses by default, saying why', () => {
    const policy = createOutboundPolicy();
    expect(policy.refusal({ hostname: 'localhost', address: loopback })).toBe(
      '127.0.0.1 is loopback (this machine)',
    );
    expect(policy.refusal({ hostname: 'example.com', address: parseIpAddress('93.184.216.34')! })).toBeNull();
  });

  it('allows what the administrator lists: addresses, ranges, host names and wildcards', () => {
    const policy = createOutboundPolicy({
      allow: parseAllowList('127.0.0.1, 10.0.0.0/8 intranet.example *.corp.example'),
    });
    expect(policy.refusal({ hostname: 'x', address: loopback })).toBeNull();
    expect(policy.refusal({ hostname: 'x', address: privateAddress })).toBeNull();
    expect(policy.refusal({ hostname: 'x', address: parseIpAddress('192.168.0.1')! })).toMatch(/private/);
    expect(
      policy.refusal({ hostname: 'Intranet.Example.', address: parseIpAddress('192.168.0.1')! }),
    ).toBeNull();
    expect(
      policy.refusal({ hostname: 'wiki.corp.example', address: parseIpAddress('192.168.0.1')! }),
    ).toBeNull();
    expect(
      policy.refusal({ hostname: 'corp.example.evil', address: parseIpAddress('192.168.0.1')! }),
    ).not.toBeNull();
    // An allowed IPv4 address is allowed in its IPv4-mapped form too.
    expect(policy.refusal({ hostname: 'x', address: parseIpAddress('::ffff:127.0.0.1')! })).toBeNull();
  });

  it('rejects invalid allow-list entries with a clear message', () => {
    expect(allowListEntryProblem('10.0.0.0/33')).toMatch(/CIDR/);
    expect(allowListEntryProblem('300.1.1.1')).toMatch(/IP address/);
    expect(allowListEntryProblem('bad host!')).toMatch(/host name/);
    expect(() => createOutboundPolicy({ allow: ['10.0.0.0/99'] })).toThrow(
      /ATELIER_OUTBOUND_ALLOW: "10.0.0.0\/99"/,
    );
  });
});

describe('ATELIER_OUTBOUND_ALLOW', () => {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'atelier-outbound-config-'));

  it('is a list of entries, empty by default, and a bad entry stops start-up naming the variable', () => {
    expect(loadConfig({ env: {}, cwd }).outboundAllow).toEqual([]);
    const config = loadConfig({
      env: { ATELIER_OUTBOUND_ALLOW: '127.0.0.1, 10.0.0.0/8 *.intranet.example' },
      cwd,
    });
    expect(config.outboundAllow).toEqual(['127.0.0.1', '10.0.0.0/8', '*.intranet.example']);
    expect(config.actionTimeoutSeconds).toBe(30);
    expect(config.actionMaxResponseBytes).toBe(1024 * 1024);
    expect(() => loadConfig({ env: { ATELIER_OUTBOUND_ALLOW: '10.0.0.0/99' }, cwd })).toThrow(
      /ATELIER_OUTBOUND_ALLOW=.*expected comma-separated IP addresses, CIDR ranges or host names/,
    );
  });
});
