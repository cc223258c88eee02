/**
 * Base64 decoded piece by piece as a JSON string streams in, held to the rule the DTO states for a whole
 * `content` (send-request.dto.ts: RFC 4648 alphabet with padding, CR/LF allowed anywhere before the end,
 * length without them a multiple of 4): only whole quads are decoded, the rest waits for the next piece.
 * After the first `=` only one more `=` and line breaks may follow.
 */
export class Base64Decoder {
  /** False once the text broke the rule; nothing more is decoded then. */
  valid = true;
  private carry = '';
  private padding = 0;
  private closed = false;

  /** The bytes of the whole quads so far (empty when invalid or nothing complete). */
  write(text: string): Buffer {
    if (!this.valid) return EMPTY;
    const clean = text.replace(/[\r\n]/g, '');
    if (clean.length === 0) return EMPTY;
    if (!this.accepts(clean)) {
      this.valid = false;
      return EMPTY;
    }
    const all = this.carry + clean;
    const whole = all.length - (all.length % 4);
    this.carry = all.slice(whole);
    return whole === 0 ? EMPTY : Buffer.from(all.slice(0, whole), 'base64');
  }

  /** Whether the text as a whole was base64 (nothing left over). */
  end(): boolean {
    if (this.carry.length > 0) this.valid = false;
    return this.valid;
  }

  private accepts(clean: string): boolean {
    for (let i = 0; i < clean.length; i += 1) {
      const c = clean.charCodeAt(i);
      if (c === 0x3d) {
        this.padding += 1;
        this.closed = true;
        if (this.padding > 2) return false;
      } else if (this.closed || !IS_BASE64[c]) {
        return false;
      }
    }
    return true;
  }
}

const EMPTY = Buffer.alloc(0);

const IS_BASE64: boolean[] = (() => {
  const table = new Array<boolean>(128).fill(false);
  for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') table[c.charCodeAt(0)] = true;
  return table;
})();
