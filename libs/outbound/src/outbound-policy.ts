import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, type LookupFunction } from 'node:net';
import type { AllowedNetwork, AppConfig } from '@app/config';
import { addressClassOf, familyOf, nat64Target } from './address-classes';
import { OutboundAddressRefusedError, RefusalReason } from './outbound-address-refused.error';

/** Resolves a host name to every address it has (dns.lookup with `all: true`; tests pass canned answers). */
export type OutboundResolver = (hostname: string, options: LookupOptions, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

export interface OutboundPolicyOptions {
  /** Refuse internal addresses and plain http (production). When false every connection is allowed. */
  enforce: boolean;
  /** Networks reached although internal (OUTBOUND_ALLOWED_NETWORKS); plain http is allowed to them too. */
  allowedNetworks: ReadonlyArray<Pick<AllowedNetwork, 'address' | 'prefix' | 'family'>>;
  resolver?: OutboundResolver;
}

const systemResolver: OutboundResolver = (hostname, options, callback) => dnsLookup(hostname, { ...options, all: true }, callback);

/** Strips the brackets of an IPv6 URL host (`[::1]`). */
function bare(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * The one outbound policy for every connection the service opens to an address an API client configured
 * (IMAP, identity, Graph; not its own Postgres and Redis). In production an address that is loopback,
 * private, link-local (cloud metadata), CGNAT, multicast, unspecified, broadcast or reserved, in any
 * spelling including IPv4-mapped IPv6, is refused unless OUTBOUND_ALLOWED_NETWORKS lists it; plain http
 * is refused unless the list names the address. Elsewhere (development, tests) everything is allowed.
 *
 * Checked when connecting, on the address the socket is about to use: an IP literal before the
 * connection, a host name inside the socket's own `lookup` (so a DNS answer that changes between a check
 * and the connection — DNS rebinding — cannot get around it). Of the addresses a name resolves to, only
 * permitted ones are handed to the socket; when none is permitted the connection fails with
 * OutboundAddressRefusedError (code FailureCode.OutboundAddressRefused).
 */
export class OutboundPolicy {
  readonly enforced: boolean;
  /** For sockets to addresses that must pass the policy (TLS, IMAP). */
  readonly lookup: LookupFunction;
  /** For plain-text http: only allow-listed addresses pass. */
  readonly plaintextLookup: LookupFunction;
  private readonly allowed = new BlockList();
  private readonly resolver: OutboundResolver;

  constructor(options: OutboundPolicyOptions) {
    this.enforced = options.enforce;
    for (const network of options.allowedNetworks) this.allowed.addSubnet(network.address, network.prefix, network.family);
    this.resolver = options.resolver ?? systemResolver;
    this.lookup = this.lookupFor(false);
    this.plaintextLookup = this.lookupFor(true);
  }

  static fromConfig(config: Pick<AppConfig, 'env' | 'outbound'>): OutboundPolicy {
    return new OutboundPolicy({ enforce: config.env === 'production', allowedNetworks: config.outbound.allowedNetworks });
  }

  /** Development: no checks at all. */
  static allowAll(): OutboundPolicy {
    return new OutboundPolicy({ enforce: false, allowedNetworks: [] });
  }

  /** Why a connection to `address` (an IP) is refused, or null when it may go there. */
  refusalOf(address: string, options: { plaintext?: boolean } = {}): RefusalReason | null {
    if (!this.enforced) return null;
    const ip = bare(address);
    const family = familyOf(ip);
    if (family === null) return 'not an IP address';
    if (this.allowed.check(ip, family)) return null;
    const translated = nat64Target(ip);
    if (translated !== null) return this.refusalOf(translated, options);
    return addressClassOf(ip) ?? (options.plaintext ? 'plain http' : null);
  }

  /** Whether OUTBOUND_ALLOWED_NETWORKS names `address` (an IP). */
  isAllowListed(address: string): boolean {
    const ip = bare(address);
    const family = familyOf(ip);
    return family !== null && this.allowed.check(ip, family);
  }

  /**
   * Before connecting to `host`: throws OutboundAddressRefusedError when it is an IP literal the policy
   * refuses (a socket given an IP never calls `lookup`). A host name passes here; `lookup` checks its addresses.
   */
  checkHost(host: string, options: { plaintext?: boolean } = {}): void {
    const ip = bare(host);
    if (familyOf(ip) === null) return;
    const reason = this.refusalOf(ip, options);
    if (reason) throw new OutboundAddressRefusedError(host, ip, reason);
  }

  /**
   * Static check of an http(s) endpoint an API client configures (identity, Graph), for a 400 at
   * registration: null when it may be used, else what is wrong. In production it must be https, or
   * plain http to an IP literal the allow list names. A host name is not resolved here: its addresses
   * are checked when connecting.
   */
  urlProblem(url: string): string | null {
    if (!this.enforced) return null;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'must be an https URL';
    }
    if (parsed.protocol === 'https:' || this.isAllowListed(parsed.hostname)) return null;
    return 'must be https in production (plain http only to an IP address listed in OUTBOUND_ALLOWED_NETWORKS)';
  }

  private lookupFor(plaintext: boolean): LookupFunction {
    return (hostname, options, callback) => {
      this.resolver(hostname, options, (error, addresses) => {
        if (error) return callback(error, '');
        const permitted = this.enforced ? addresses.filter((entry) => this.refusalOf(entry.address, { plaintext }) === null) : addresses;
        if (permitted.length === 0) {
          const first = addresses[0];
          const refusal = new OutboundAddressRefusedError(hostname, first?.address ?? hostname, first ? this.refusalOf(first.address, { plaintext })! : 'not an IP address');
          return callback(refusal as NodeJS.ErrnoException, '');
        }
        if (options.all) return callback(null, permitted);
        callback(null, permitted[0].address, permitted[0].family);
      });
    };
  }
}
