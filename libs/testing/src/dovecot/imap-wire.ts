import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

/**
 * A deliberately small IMAP client for the harness itself (readiness probe, APPEND/MULTIAPPEND with
 * LITERAL+, STATUS, CREATE). Not a general client: it reads lines (and server literals) and waits for
 * tagged completions; untagged lines are collected for the caller.
 */
export interface TaggedResult {
  status: 'OK' | 'NO' | 'BAD';
  /** Text after the status, including a response code like `[APPENDUID 1 5]`. */
  text: string;
  untagged: string[];
}

export class ImapCommandError extends Error {
  constructor(
    readonly command: string,
    readonly result: TaggedResult,
  ) {
    super(`IMAP ${command} failed: ${result.status} ${result.text}`);
  }
}

export interface ImapWireOptions {
  host: string;
  port: number;
  tls?: ConnectionOptions;
  timeoutMs?: number;
}

export class ImapWire {
  greeting = '';
  private buffer: Buffer = Buffer.alloc(0);
  private pendingLine = '';
  private literalRemaining = 0;
  private readonly lines: string[] = [];
  private notify: (() => void) | undefined;
  private closedError: Error | undefined;
  private tagCounter = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly timeoutMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const onClose = (error?: Error): void => {
      this.closedError ??= error ?? new Error('IMAP connection closed');
      this.wake();
    };
    socket.on('error', (error) => onClose(error));
    socket.on('close', () => onClose());
  }

  /** Connects and waits for the greeting (`* OK …`); a `* BYE`/`* PREAUTH` greeting is returned as is. */
  static async open(options: ImapWireOptions): Promise<ImapWire> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const socket = options.tls
      ? tlsConnect({ host: options.host, port: options.port, ...options.tls })
      : netConnect({ host: options.host, port: options.port });
    socket.setNoDelay(true);
    const wire = new ImapWire(socket, timeoutMs);
    try {
      wire.greeting = await wire.nextLine();
    } catch (error) {
      wire.close();
      throw error;
    }
    return wire;
  }

  /** AUTHENTICATE PLAIN with SASL-IR; `authzid` logs a master user in as another user. */
  async authenticatePlain(authcid: string, password: string, authzid = ''): Promise<TaggedResult> {
    const ir = Buffer.from(`${authzid}\0${authcid}\0${password}`, 'utf8').toString('base64');
    return this.run('AUTHENTICATE', [`AUTHENTICATE PLAIN ${ir}`]);
  }

  /**
   * Runs one command. `parts` are concatenated; a Buffer part is sent as a LITERAL+ literal
   * (`{n+}\r\n<bytes>`), so the whole command goes out in one write without waiting for `+`.
   */
  async run(name: string, parts: Array<string | Buffer>): Promise<TaggedResult> {
    const tag = `H${++this.tagCounter}`;
    const chunks: Buffer[] = [Buffer.from(`${tag} `)];
    for (const part of parts) {
      if (typeof part === 'string') chunks.push(Buffer.from(part, 'utf8'));
      else chunks.push(Buffer.from(`{${part.length}+}\r\n`), part);
    }
    chunks.push(Buffer.from('\r\n'));
    this.socket.write(Buffer.concat(chunks));
    const untagged: string[] = [];
    for (;;) {
      const line = await this.nextLine();
      if (line.startsWith(`${tag} `)) {
        const rest = line.slice(tag.length + 1);
        const space = rest.indexOf(' ');
        const status = (space < 0 ? rest : rest.slice(0, space)).toUpperCase();
        if (status !== 'OK' && status !== 'NO' && status !== 'BAD') throw new Error(`Unexpected IMAP completion: ${line}`);
        return { status, text: space < 0 ? '' : rest.slice(space + 1), untagged };
      }
      if (line.startsWith('+')) throw new Error(`IMAP ${name}: unexpected continuation request (${line})`);
      untagged.push(line);
    }
  }

  async runOk(name: string, parts: Array<string | Buffer>): Promise<TaggedResult> {
    const result = await this.run(name, parts);
    if (result.status !== 'OK') throw new ImapCommandError(name, result);
    return result;
  }

  async logout(): Promise<void> {
    try {
      if (!this.closedError) await this.run('LOGOUT', ['LOGOUT']);
    } catch {
      // already gone
    } finally {
      this.close();
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const notify = this.notify;
    this.notify = undefined;
    notify?.();
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (this.literalRemaining > 0) {
        if (this.buffer.length < this.literalRemaining) break;
        this.pendingLine += this.buffer.subarray(0, this.literalRemaining).toString('utf8');
        this.buffer = this.buffer.subarray(this.literalRemaining);
        this.literalRemaining = 0;
        continue;
      }
      const end = this.buffer.indexOf('\r\n');
      if (end < 0) break;
      const text = this.buffer.subarray(0, end).toString('utf8');
      this.buffer = this.buffer.subarray(end + 2);
      const literal = /\{(\d+)\}$/.exec(text);
      if (literal) {
        // the line goes on after the literal's bytes
        this.pendingLine += text;
        this.literalRemaining = Number(literal[1]);
        continue;
      }
      this.lines.push(this.pendingLine + text);
      this.pendingLine = '';
    }
    this.wake();
  }

  private async nextLine(): Promise<string> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) return line;
      if (this.closedError) throw this.closedError;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        this.close();
        throw new Error(`IMAP server did not answer within ${this.timeoutMs} ms`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.notify = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

/** An IMAP quoted string (mailbox names are first encoded with modified UTF-7). */
export function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** RFC 3501 §5.1.3 modified UTF-7 for mailbox names. */
export function encodeMailboxName(name: string): string {
  let out = '';
  let pending = '';
  const flush = (): void => {
    if (!pending) return;
    const utf16 = Buffer.alloc(pending.length * 2);
    for (let i = 0; i < pending.length; i++) utf16.writeUInt16BE(pending.charCodeAt(i), i * 2);
    out += `&${utf16.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
    pending = '';
  };
  for (const char of name) {
    const code = char.charCodeAt(0);
    if (code >= 0x20 && code <= 0x7e) {
      flush();
      out += char === '&' ? '&-' : char;
    } else {
      pending += char;
    }
  }
  flush();
  return out;
}

/** `21-Nov-2026 10:00:00 +0000` (APPEND date-time, UTC). */
export function imapDateTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}-${months[date.getUTCMonth()]}-${date.getUTCFullYear()} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}

/** Expands an IMAP uid-set such as `3,5:7` into `[3, 5, 6, 7]`. */
export function parseUidSet(set: string): number[] {
  const uids: number[] = [];
  for (const range of set.split(',')) {
    const [from, to] = range.split(':').map(Number);
    if (to === undefined) uids.push(from);
    else for (let uid = Math.min(from, to); uid <= Math.max(from, to); uid++) uids.push(uid);
  }
  return uids;
}
