import { BlockList, isIP } from 'node:net';
import { ipv6Bytes } from '@app/config';

/** Why an address is internal: the special-purpose ranges of the IANA IPv4 and IPv6 registries we refuse. */
export type AddressClass =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared (carrier-grade NAT)'
  | 'link-local (cloud metadata)'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'not an IP address';

type Range = readonly [AddressClass, string, number, 'ipv4' | 'ipv6'];

/**
 * First match wins, so the narrow ranges come before the reserved blocks that contain them. IPv4-mapped
 * IPv6 addresses (`::ffff:127.0.0.1`, `::ffff:7f00:1`) need no entries of their own: Node's BlockList
 * checks them against the IPv4 rules (the unit tests pin that).
 */
const RANGES: readonly Range[] = [
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['shared (carrier-grade NAT)', '100.64.0.0', 10, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['link-local (cloud metadata)', '169.254.0.0', 16, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['reserved', '192.0.0.0', 24, 'ipv4'], // IETF protocol assignments
  ['reserved', '192.0.2.0', 24, 'ipv4'], // documentation (TEST-NET-1)
  ['reserved', '192.88.99.0', 24, 'ipv4'], // 6to4 relay anycast (deprecated)
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['reserved', '198.18.0.0', 15, 'ipv4'], // benchmarking
  ['reserved', '198.51.100.0', 24, 'ipv4'], // documentation (TEST-NET-2)
  ['reserved', '203.0.113.0', 24, 'ipv4'], // documentation (TEST-NET-3)
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['broadcast', '255.255.255.255', 32, 'ipv4'],
  ['reserved', '240.0.0.0', 4, 'ipv4'], // future use
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['reserved', '::', 96, 'ipv6'], // IPv4-compatible (deprecated): ::127.0.0.1
  ['reserved', '::ffff:0:0:0', 96, 'ipv6'], // IPv4-translated (SIIT)
  ['private', '64:ff9b:1::', 48, 'ipv6'], // local-use NAT64
  ['reserved', '100::', 64, 'ipv6'], // discard-only
  ['reserved', '2001::', 23, 'ipv6'], // IETF protocol assignments, Teredo included
  ['reserved', '2001:db8::', 32, 'ipv6'], // documentation
  ['reserved', '2002::', 16, 'ipv6'], // 6to4 (deprecated): embeds any IPv4 address
  ['reserved', '3fff::', 20, 'ipv6'], // documentation
  ['reserved', '5f00::', 16, 'ipv6'], // SRv6 SIDs
  ['private', 'fc00::', 7, 'ipv6'], // unique local (AWS metadata fd00:ec2::254 included)
  ['link-local (cloud metadata)', 'fe80::', 10, 'ipv6'],
  ['private', 'fec0::', 10, 'ipv6'], // site-local (deprecated)
  ['multicast', 'ff00::', 8, 'ipv6'],
];

/**
 * One BlockList per range, so a refusal can say which kind of address it was. Node's BlockList rather
 * than a package: it is the parser the sockets themselves use (no second opinion on what an address
 * means), it understands IPv4-mapped IPv6, and it needs no dependency.
 */
const CLASSIFIERS = RANGES.map(([name, network, prefix, family]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { name, list };
});

const NAT64 = new BlockList();
NAT64.addSubnet('64:ff9b::', 96, 'ipv6');

export function familyOf(address: string): 'ipv4' | 'ipv6' | null {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : null;
}

/**
 * The IPv4 address a well-known-prefix NAT64 address (64:ff9b::/96, RFC 6052) translates to: the gateway
 * connects there, so that is the address to judge. Null for any other address.
 */
export function nat64Target(address: string): string | null {
  if (familyOf(address) !== 'ipv6' || !NAT64.check(address, 'ipv6')) return null;
  return ipv6Bytes(address).slice(12).join('.');
}

/** The internal class `address` belongs to, or null for a public (globally reachable) address. */
export function addressClassOf(address: string): AddressClass | null {
  const family = familyOf(address);
  if (family === null) return 'not an IP address';
  for (const { name, list } of CLASSIFIERS) {
    if (list.check(address, family)) return name;
  }
  return null;
}
