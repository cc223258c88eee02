import addressparser from 'nodemailer/lib/addressparser';

/** The header block of a MIME message (up to the first empty line), unfolded. */
function headerBlock(raw: Buffer): string {
  const text = raw.subarray(0, Math.min(raw.length, 256 * 1024)).toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  return (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
}

function addressesOf(header: string, name: string): string[] {
  const pattern = new RegExp(`^${name}:(.*)$`, 'gim');
  const found: string[] = [];
  for (const match of header.matchAll(pattern)) {
    found.push(...addressparser(match[1] ?? '', { flatten: true }).map((entry) => entry.address.toLowerCase()).filter(Boolean));
  }
  return found;
}

/**
 * The Bcc recipients of a stored send: the envelope's recipients that are not in its To or Cc header.
 * The stored MIME has no Bcc header (it goes out over SMTP as it is, the Bcc only in the envelope), but
 * Graph has no envelope: it takes the recipients from the message, so they must be given back to it.
 */
export function bccOf(raw: Buffer, envelopeTo: string[]): string[] {
  const header = headerBlock(raw);
  const visible = new Set([...addressesOf(header, 'to'), ...addressesOf(header, 'cc')]);
  return envelopeTo.filter((address) => !visible.has(address.toLowerCase()));
}

/**
 * The MIME sendMail gets: the stored bytes as they are, with a `Bcc:` header in front when the send has
 * Bcc recipients (Exchange reads the recipients from To/Cc/Bcc and leaves Bcc out of what it delivers).
 */
export function mimeForGraph(raw: Buffer, bcc: string[]): Buffer {
  if (bcc.length === 0) return raw;
  return Buffer.concat([Buffer.from(`Bcc: ${bcc.join(', ')}\r\n`, 'utf8'), raw]);
}
