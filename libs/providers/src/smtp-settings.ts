import { ProviderType, SmtpSecurity } from '@app/persistence';

/** Where a provider's mailboxes send: the SMTP submission server. */
export interface SmtpSettings {
  host: string;
  port: number;
  security: SmtpSecurity;
}

/**
 * Well-known IMAP hosts and their submission servers (DESIGN.md "Sending mail"). `keepsSentCopy`: the
 * server files a copy of what it relays in the Sent folder itself, so appending one would make two.
 */
const WELL_KNOWN: Record<string, SmtpSettings & { keepsSentCopy: boolean }> = {
  'outlook.office365.com': { host: 'smtp.office365.com', port: 587, security: 'starttls', keepsSentCopy: true },
  'imap.gmail.com': { host: 'smtp.gmail.com', port: 465, security: 'tls', keepsSentCopy: true },
};
const KEEPS_SENT_COPY = new Set(['smtp.office365.com', 'smtp.gmail.com', ...Object.keys(WELL_KNOWN)]);

/** The port each security normally uses (RFC 8314: 465 implicit TLS, 587 submission with STARTTLS). */
export function defaultSmtpPort(security: SmtpSecurity): number {
  return security === 'tls' ? 465 : 587;
}

/** The security a port normally implies when only the port is given. */
function securityForPort(port: number): SmtpSecurity {
  return port === 465 ? 'tls' : 'starttls';
}

/**
 * SMTP settings derived from the provider's (IMAP) host: the well-known pairs, else submission on the
 * same host (587, STARTTLS), which is how most mail servers are set up. Graph providers send through
 * Graph and have none.
 */
export function deriveSmtpSettings(type: ProviderType, imapHost: string | null): SmtpSettings | null {
  if (type !== 'imap' || !imapHost) return null;
  const known = WELL_KNOWN[imapHost];
  if (known) return { host: known.host, port: known.port, security: known.security };
  return { host: imapHost, port: 587, security: 'starttls' };
}

/**
 * Whether the service appends what it sent to the Sent folder: not for Graph (sendMail saves a copy)
 * nor Exchange Online and Gmail (their SMTP servers do), yes for any other server.
 */
export function deriveAppendToSent(type: ProviderType, imapHost: string | null, smtpHost: string | null): boolean {
  if (type !== 'imap') return false;
  return !(KEEPS_SENT_COPY.has(imapHost ?? '') || KEEPS_SENT_COPY.has(smtpHost ?? ''));
}

/** Fields of `smtp` given in a request; the rest come from the stored or derived settings. */
export type SmtpSettingsInput = Partial<SmtpSettings>;

/**
 * Merges a request's `smtp` over a base (stored, or derived when nothing is stored). While the base port
 * is the usual one of its security, a port given alone picks the usual security for it (465 → tls, else
 * starttls) and a security given alone moves the port to its usual one; an unusual pair is kept.
 */
export function mergeSmtpSettings(input: SmtpSettingsInput, base: SmtpSettings | null, fallbackHost: string | null): SmtpSettings | null {
  const host = input.host?.toLowerCase() ?? base?.host ?? fallbackHost;
  if (!host) return null;
  const baseSecurity = base?.security ?? 'starttls';
  const basePort = base?.port ?? defaultSmtpPort(baseSecurity);
  const baseUsual = basePort === defaultSmtpPort(baseSecurity);
  const security = input.security ?? (input.port !== undefined && baseUsual ? securityForPort(input.port) : baseSecurity);
  const port = input.port ?? (input.security !== undefined && baseUsual ? defaultSmtpPort(security) : basePort);
  return { host, port, security };
}

export function sameSmtp(a: SmtpSettings | null, b: SmtpSettings | null): boolean {
  return a === b || (a !== null && b !== null && a.host === b.host && a.port === b.port && a.security === b.security);
}
