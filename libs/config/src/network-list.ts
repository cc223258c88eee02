import { isIP } from 'node:net';

/** One entry of OUTBOUND_ALLOWED_NETWORKS: a network in CIDR notation (a bare address is that address only). */
export interface AllowedNetwork {
  /** The network address as written (host bits are checked to be zero). */
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
  /** `address/prefix`, for messages. */
  cidr: string;
}

/** The 16 bytes of an IPv6 address Node already accepted (`isIP(text) === 6`), embedded IPv4 included. */
export function ipv6Bytes(text: string): number[] {
  let address = text.replace(/%.*$/, '');
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted) {
    tail.push(...dotted[1].split('.').map(Number));
    address = `${address.slice(0, dotted.index)}0:0`;
  }
  const [head, rest] = address.split('::');
  const groupsOf = (part: string | undefined) => (part ? part.split(':').filter((group) => group !== '') : []);
  const left = groupsOf(head);
  const right = groupsOf(rest);
  const groups = rest === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = groups.flatMap((group) => {
    const value = parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

function addressBytes(address: string, family: 'ipv4' | 'ipv6'): number[] {
  return family === 'ipv4' ? address.split('.').map(Number) : ipv6Bytes(address);
}

/** The address with every bit past `prefix` cleared, written back in the address's notation. */
function networkOf(bytes: number[], prefix: number, family: 'ipv4' | 'ipv6'): string {
  const masked = bytes.map((byte, index) => {
    const bitsKept = Math.max(0, Math.min(8, prefix - index * 8));
    return byte & ((0xff << (8 - bitsKept)) & 0xff);
  });
  if (family === 'ipv4') return masked.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((masked[i] << 8) | masked[i + 1]).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/**
 * Parses OUTBOUND_ALLOWED_NETWORKS (already split at commas). Each bad entry is one problem line naming
 * the entry, so an operator fixes them all in one go. A network with bits set past its prefix
 * (`10.1.0.0/8`) is refused rather than silently widened: it usually means a mistyped prefix.
 */
export function parseNetworkList(entries: string[]): { networks: AllowedNetwork[]; problems: string[] } {
  const networks: AllowedNetwork[] = [];
  const problems: string[] = [];
  entries.forEach((entry, index) => {
    const label = `entry ${index + 1} (${entry})`;
    const match = /^([^/\s]+?)(?:\/(\d{1,3}))?$/.exec(entry);
    const version = match ? isIP(match[1]) : 0;
    if (!match || version === 0 || match[1].includes('%')) {
      problems.push(`${label} is not a network in CIDR notation such as 10.0.0.0/8, 192.168.1.20/32 or fd00::/8`);
      return;
    }
    const family = version === 4 ? 'ipv4' : 'ipv6';
    const maximum = family === 'ipv4' ? 32 : 128;
    const prefix = match[2] === undefined ? maximum : Number(match[2]);
    if (prefix > maximum) {
      problems.push(`${label} has a prefix longer than ${maximum} bits`);
      return;
    }
    const network = networkOf(addressBytes(match[1], family), prefix, family);
    if (addressBytes(network, family).join('.') !== addressBytes(match[1], family).join('.')) {
      problems.push(`${label} has bits set past the /${prefix} prefix; the network is ${network}/${prefix}`);
      return;
    }
    networks.push({ address: match[1], prefix, family, cidr: `${match[1]}/${prefix}` });
  });
  return { networks, problems };
}
