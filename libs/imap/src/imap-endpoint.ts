import type { ImapFlowOptions } from 'imapflow';
import type { OutboundPolicy } from '@app/outbound';

/** Where and how to reach an IMAP server (from the provider). */
export interface ImapEndpoint {
  host: string;
  port: number;
  secure: boolean;
  verifyCertificate: boolean;
}

/** How to log in: a password, or an OAuth access token (XOAUTH2). */
export type ImapCredential = { kind: 'password'; login: string; password: string } | { kind: 'oauth2'; login: string; accessToken: string };

export interface ImapTimeouts {
  connectMs: number;
  /** A socket silent this long is dead (imapflow closes it and we reconnect). */
  socketMs: number;
  /** IDLE is re-issued at least this often (servers drop IDLE after 29 minutes; NATs sooner). */
  maxIdleMs: number;
}

/**
 * IDLE is re-issued every 20 minutes (servers end IDLE at 29). Each re-issue wakes a hibernated Dovecot
 * session for a few seconds, during which new-mail pushes take its slow (~500 ms) path: re-issuing every
 * 4 minutes left ~2 % of 3,000 sessions awake at any time and made that the p99. The socket timeout sits
 * above the re-issue interval so a quiet, healthy IDLE never trips it; a dead connection is noticed at the
 * next re-issue or by the socket timeout, whichever comes first.
 */
export const DEFAULT_IMAP_TIMEOUTS: ImapTimeouts = { connectMs: 15_000, socketMs: 25 * 60_000, maxIdleMs: 20 * 60_000 };

/**
 * imapflow's options. `outbound` (production) puts the policy's lookup into the socket options — imapflow
 * hands `tls` to net/tls.connect, so a host name's addresses are judged when the socket resolves them;
 * an IP literal never reaches a lookup and is checked by the session before it connects.
 */
export function imapFlowOptions(endpoint: ImapEndpoint, credential: ImapCredential, timeouts: ImapTimeouts = DEFAULT_IMAP_TIMEOUTS, outbound?: OutboundPolicy): ImapFlowOptions {
  return {
    host: endpoint.host,
    port: endpoint.port,
    secure: endpoint.secure,
    servername: endpoint.host,
    tls: { rejectUnauthorized: endpoint.verifyCertificate, minVersion: 'TLSv1.2', ...(outbound?.enforced ? { lookup: outbound.lookup } : {}) },
    auth: credential.kind === 'password' ? { user: credential.login, pass: credential.password } : { user: credential.login, accessToken: credential.accessToken },
    clientInfo: { name: 'mail-listener' },
    logger: false,
    emitLogs: false,
    connectionTimeout: timeouts.connectMs,
    greetingTimeout: timeouts.connectMs,
    socketTimeout: timeouts.socketMs,
    maxIdleTime: timeouts.maxIdleMs,
    // imapflow waits 15 s of quiet before it IDLEs; until then no EXISTS is pushed. We only ever run a
    // fetch after a push, so IDLE again almost at once.
    autoIdleDelay: 50,
    // We use neither CONDSTORE nor UTF8=ACCEPT: skipping ENABLE saves a round trip per connection.
    disableAutoEnable: true,
    // COMPRESS=DEFLATE (Gmail offers it) keeps a zlib deflate and inflate state per connection, ~300 KiB:
    // ten times what an idle session may cost, to save bytes on sessions that mostly sit in IDLE.
    disableCompression: true,
    // Exchange Online has no IDLE on some tenants' front ends: fall back to polling with NOOP.
    missingIdleCommand: 'NOOP',
  };
}
