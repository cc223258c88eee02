import { ImapCommandError, ImapWire, encodeMailboxName, imapDateTime, parseUidSet, quoted } from './imap-wire';

export interface DeliverOptions {
  /** Default INBOX; created when missing. */
  folder?: string;
  internalDate?: Date;
  /** IMAP flags, e.g. ['\\Seen']. Default none (the message is \Recent and unseen). */
  flags?: string[];
}

export interface DeliveredMessage {
  uid: number;
  uidValidity: number;
}

export interface DeliveredBatch {
  uids: number[];
  uidValidity: number;
}

export type MessageInput = string | Buffer | { raw: string | Buffer; internalDate?: Date; flags?: string[] };

export interface MailboxStatus {
  messages: number;
  uidNext: number;
  uidValidity: number;
  unseen: number;
}

export interface MailAccess {
  host: string;
  port: number;
  masterUser: string;
  masterPassword: string;
}

const MAX_MESSAGES_PER_APPEND = 250;
const MAX_BYTES_PER_APPEND = 16 * 1024 * 1024;

/** Mail operations done the way a real MTA/client would: over IMAP, logged in as the user through the harness' master user. */
export class DovecotMail {
  constructor(private readonly access: () => MailAccess) {}

  async session<T>(username: string, work: (wire: ImapWire) => Promise<T>): Promise<T> {
    const { host, port, masterUser, masterPassword } = this.access();
    const wire = await ImapWire.open({ host, port });
    try {
      const auth = await wire.authenticatePlain(masterUser, masterPassword, username);
      if (auth.status !== 'OK') throw new ImapCommandError(`AUTHENTICATE as ${username}`, auth);
      return await work(wire);
    } finally {
      await wire.logout();
    }
  }

  /** APPEND (MULTIAPPEND + LITERAL+ for batches: one round trip per chunk); UIDs come from APPENDUID. */
  async append(username: string, folder: string, messages: MessageInput[], defaults: DeliverOptions = {}): Promise<DeliveredBatch> {
    if (messages.length === 0) return { uids: [], uidValidity: (await this.status(username, folder)).uidValidity };
    return this.session(username, async (wire) => {
      const uids: number[] = [];
      let uidValidity = 0;
      for (const chunk of chunks(messages.map((message) => normalize(message, defaults)))) {
        const parts: Array<string | Buffer> = [`APPEND ${quoted(encodeMailboxName(folder))}`];
        for (const message of chunk) {
          if (message.flags.length) parts.push(` (${message.flags.join(' ')})`);
          if (message.internalDate) parts.push(` "${imapDateTime(message.internalDate)}"`);
          parts.push(' ', message.raw);
        }
        let result = await wire.run('APPEND', parts);
        if (result.status === 'NO' && /\[TRYCREATE\]/i.test(result.text)) {
          await createMailbox(wire, folder);
          result = await wire.run('APPEND', parts);
        }
        if (result.status !== 'OK') throw new ImapCommandError(`APPEND to ${folder} for ${username}`, result);
        const code = /\[APPENDUID (\d+) ([\d:,]+)\]/i.exec(result.text);
        if (!code) throw new Error(`APPEND to ${folder} for ${username} returned no APPENDUID: ${result.text}`);
        uidValidity = Number(code[1]);
        uids.push(...parseUidSet(code[2]));
      }
      return { uids, uidValidity };
    });
  }

  /** CREATE (already existing is fine). */
  async createFolder(username: string, name: string): Promise<void> {
    await this.session(username, (wire) => createMailbox(wire, name));
  }

  async status(username: string, folder: string): Promise<MailboxStatus> {
    return this.session(username, async (wire) => {
      const result = await wire.runOk('STATUS', [`STATUS ${quoted(encodeMailboxName(folder))} (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)`]);
      const line = result.untagged.find((untagged) => /^\* STATUS /i.test(untagged));
      const items = line ? /\(([^()]*)\)\s*$/.exec(line) : null;
      if (!items) throw new Error(`STATUS ${folder} for ${username}: no STATUS response`);
      const tokens = items[1].trim().split(/\s+/);
      const values = new Map<string, number>();
      for (let i = 0; i + 1 < tokens.length; i += 2) values.set(tokens[i].toUpperCase(), Number(tokens[i + 1]));
      return {
        messages: values.get('MESSAGES') ?? 0,
        uidNext: values.get('UIDNEXT') ?? 0,
        uidValidity: values.get('UIDVALIDITY') ?? 0,
        unseen: values.get('UNSEEN') ?? 0,
      };
    });
  }
}

async function createMailbox(wire: ImapWire, name: string): Promise<void> {
  const result = await wire.run('CREATE', [`CREATE ${quoted(encodeMailboxName(name))}`]);
  if (result.status !== 'OK' && !/\[ALREADYEXISTS\]/i.test(result.text)) throw new ImapCommandError(`CREATE ${name}`, result);
}

interface NormalizedMessage {
  raw: Buffer;
  internalDate?: Date;
  flags: string[];
}

function normalize(message: MessageInput, defaults: DeliverOptions): NormalizedMessage {
  const input = typeof message === 'string' || Buffer.isBuffer(message) ? { raw: message } : message;
  const raw = Buffer.isBuffer(input.raw) ? input.raw : Buffer.from(input.raw.replace(/\r?\n/g, '\r\n'), 'utf8');
  return {
    raw,
    internalDate: input.internalDate ?? defaults.internalDate,
    flags: input.flags ?? defaults.flags ?? [],
  };
}

function* chunks(messages: NormalizedMessage[]): Generator<NormalizedMessage[]> {
  let current: NormalizedMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    if (current.length && (current.length >= MAX_MESSAGES_PER_APPEND || bytes + message.raw.length > MAX_BYTES_PER_APPEND)) {
      yield current;
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += message.raw.length;
  }
  if (current.length) yield current;
}
