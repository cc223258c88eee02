import { randomUUID } from 'node:crypto';

export type MessageAddress = string | { name?: string; address: string };

export interface BuildMessageInput {
  from?: MessageAddress;
  to?: MessageAddress | MessageAddress[];
  cc?: MessageAddress | MessageAddress[];
  subject?: string;
  /** With or without angle brackets; default `<uuid@harness.test>`. */
  messageId?: string;
  /** Default now. */
  date?: Date;
  /** Plain text body (UTF-8). */
  body?: string;
  /** Extra header lines. */
  headers?: Record<string, string>;
}

const nonAscii = /[^\x20-\x7e]/;

/** RFC 2047 encoded-word for non-ASCII header text. */
function encodeWord(text: string): string {
  return nonAscii.test(text) ? `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=` : text;
}

function formatAddress(address: MessageAddress): string {
  if (typeof address === 'string') return address;
  if (!address.name) return address.address;
  const name = nonAscii.test(address.name) ? encodeWord(address.name) : `"${address.name.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return `${name} <${address.address}>`;
}

function formatAddresses(value: MessageAddress | MessageAddress[]): string {
  return (Array.isArray(value) ? value : [value]).map(formatAddress).join(', ');
}

/** RFC 5322 date-time in UTC, e.g. `Sat, 21 Nov 2026 10:00:00 +0000`. */
export function rfc5322Date(date: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${days[date.getUTCDay()]}, ${pad(date.getUTCDate())} ${months[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}

/** A small but valid RFC 822/5322 text/plain message with CRLF line endings. */
export function buildMessage(input: BuildMessageInput = {}): string {
  const messageId = input.messageId ?? `${randomUUID()}@harness.test`;
  const body = input.body ?? 'Hello from the Dovecot test harness.';
  const eightBit = nonAscii.test(body.replace(/[\r\n\t]/g, ''));
  const headers: string[] = [
    `From: ${formatAddresses(input.from ?? { name: 'Harness Sender', address: 'sender@harness.test' })}`,
    `To: ${formatAddresses(input.to ?? 'recipient@harness.test')}`,
    ...(input.cc ? [`Cc: ${formatAddresses(input.cc)}`] : []),
    `Subject: ${encodeWord(input.subject ?? 'Test message')}`,
    `Message-ID: ${messageId.startsWith('<') ? messageId : `<${messageId}>`}`,
    `Date: ${rfc5322Date(input.date ?? new Date())}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Transfer-Encoding: ${eightBit ? '8bit' : '7bit'}`,
    ...Object.entries(input.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${headers.join('\r\n')}\r\n\r\n${body.replace(/\r?\n/g, '\r\n')}\r\n`;
}
