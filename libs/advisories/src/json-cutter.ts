/**
 * A streaming JSON reader for large documents with a known outer shape. It reads the
 * outer levels token by token (objects, arrays, keys, scalars) and, wherever its consumer
 * asks, cuts a whole value out of the text and hands it over parsed by `JSON.parse`: the
 * bulk of the document goes through the engine's native parser, one bounded piece at a
 * time, while the scan itself only tracks strings and brackets.
 *
 * Bounds: nesting depth, length of one string, length of one cut value. Text is kept only
 * from the start of the piece being read, so memory follows the largest piece, never the
 * document.
 */

/** What the reader hands its consumer. */
export type CutToken =
  | { kind: 'startObject' }
  | { kind: 'endObject' }
  | { kind: 'startArray' }
  | { kind: 'endArray' }
  | { kind: 'key'; key: string }
  | { kind: 'scalar'; value: string | number | boolean | null }
  | { kind: 'value'; value: unknown; length: number };

export interface CutLimits {
  readonly maxDepth: number;
  readonly maxStringLength: number;
}

/** Why the text was refused: not JSON, or over a bound. */
export class CutError extends Error {
  constructor(
    readonly reason: 'json' | 'depth' | 'string' | 'value',
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

type Cut = {
  start: number;
  limit: number;
  /** Handed over as a `value` token (else as a `scalar`). */
  whole: boolean;
  depth: number;
  inString: boolean;
  escaped: boolean;
  stringStart: number;
  scalar: boolean;
};

type Frame = { type: 'object' | 'array'; state: 'first' | 'key' | 'colon' | 'value' | 'next' };

/** Consumer side: receives tokens; tells, before each value, whether to cut it whole and its bound. */
export interface CutConsumer {
  token(token: CutToken): void;
  /** The longest the next value may be to be cut whole, or 0 to read it token by token. */
  wholeLimit(): number;
}

const WS = new Set([0x20, 0x0a, 0x0d, 0x09]);

export class JsonCutter {
  #buf = '';
  /** Characters dropped from the front of `#buf` so far: offsets are absolute. */
  #dropped = 0;
  #pos = 0;
  readonly #stack: Frame[] = [];
  #rootDone = false;
  #started = false;
  /** A whole value being cut: where it started in `#buf`, scan state to resume. */
  #cut: Cut | null = null;

  constructor(
    readonly consumer: CutConsumer,
    readonly limits: CutLimits,
  ) {}

  /** Feeds more text; reads as far as it can. */
  push(text: string): void {
    if (this.#pos > 65_536 && this.#cut === null) {
      this.#dropped += this.#pos;
      this.#buf = this.#buf.slice(this.#pos);
      this.#pos = 0;
    } else if (this.#cut !== null && this.#cut.start > 65_536) {
      const drop = this.#cut.start;
      this.#dropped += drop;
      this.#buf = this.#buf.slice(drop);
      this.#pos -= drop;
      this.#cut.start = 0;
      this.#cut.stringStart -= drop;
    }
    this.#buf += text;
    this.#run(false);
  }

  /** The text has ended: fails unless one whole document was read. */
  end(): void {
    this.#run(true);
    this.#skipWs();
    if (this.#pos < this.#buf.length) {
      throw this.#error('json', 'unexpected text after the end of the document');
    }
    if (!this.#rootDone) {
      throw this.#error('json', this.#started ? 'the JSON ends early' : 'no JSON value');
    }
  }

  #error(reason: CutError['reason'], message: string, at = this.#pos): CutError {
    return new CutError(reason, message, this.#dropped + at);
  }

  #skipWs(): void {
    const buf = this.#buf;
    let p = this.#pos;
    while (p < buf.length && WS.has(buf.charCodeAt(p))) p++;
    this.#pos = p;
  }

  #run(final: boolean): void {
    for (;;) {
      if (this.#cut !== null) {
        if (!this.#continueCut(final)) return;
        continue;
      }
      this.#skipWs();
      if (this.#pos >= this.#buf.length) return;
      if (this.#rootDone) {
        throw this.#error('json', 'unexpected text after the end of the document');
      }
      const c = this.#buf.charCodeAt(this.#pos);
      const top = this.#stack[this.#stack.length - 1];
      if (top === undefined) {
        this.#started = true;
        this.#value(c);
        continue;
      }
      if (top.type === 'object') {
        if (top.state === 'first' || top.state === 'key') {
          if (c === 0x7d /* } */ && top.state === 'first') {
            this.#close('endObject');
            continue;
          }
          if (c !== 0x22 /* " */) throw this.#error('json', 'expected a property name in quotes');
          const end = this.#stringEnd(this.#pos + 1, final);
          if (end < 0) return;
          const key = this.#parse(this.#pos, end + 1) as string;
          this.#pos = end + 1;
          top.state = 'colon';
          this.consumer.token({ kind: 'key', key });
          continue;
        }
        if (top.state === 'colon') {
          if (c !== 0x3a /* : */) throw this.#error('json', "expected ':' after a property name");
          this.#pos++;
          top.state = 'value';
          continue;
        }
        if (top.state === 'value') {
          this.#value(c);
          continue;
        }
        // next
        if (c === 0x2c /* , */) {
          this.#pos++;
          top.state = 'key';
          continue;
        }
        if (c === 0x7d) {
          this.#close('endObject');
          continue;
        }
        throw this.#error('json', "expected ',' or '}' in an object");
      }
      // array
      if (top.state === 'first' && c === 0x5d /* ] */) {
        this.#close('endArray');
        continue;
      }
      if (top.state === 'first' || top.state === 'value') {
        this.#value(c);
        continue;
      }
      if (c === 0x2c) {
        this.#pos++;
        top.state = 'value';
        continue;
      }
      if (c === 0x5d) {
        this.#close('endArray');
        continue;
      }
      throw this.#error('json', "expected ',' or ']' in an array");
    }
  }

  /** Starts reading a value at `#pos`, whose first character is `c`. */
  #value(c: number): void {
    const limit = this.consumer.wholeLimit();
    if (limit > 0) {
      this.#cut = {
        start: this.#pos,
        limit,
        whole: true,
        depth: 0,
        inString: false,
        escaped: false,
        stringStart: 0,
        scalar: c !== 0x7b && c !== 0x5b,
      };
      return;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const type = c === 0x7b ? 'object' : 'array';
      if (this.#stack.length + 1 > this.limits.maxDepth) {
        throw this.#error('depth', `nested deeper than ${this.limits.maxDepth}`);
      }
      this.#pos++;
      this.#stack.push({ type, state: 'first' });
      this.consumer.token({ kind: type === 'object' ? 'startObject' : 'startArray' });
      return;
    }
    // A scalar read token by token is cut like a whole value, then handed over as a scalar.
    this.#cut = {
      start: this.#pos,
      limit: this.limits.maxStringLength + 2,
      whole: false,
      depth: 0,
      inString: false,
      escaped: false,
      stringStart: 0,
      scalar: true,
    };
  }

  #close(kind: 'endObject' | 'endArray'): void {
    this.#pos++;
    this.#stack.pop();
    this.consumer.token({ kind });
    this.#afterValue();
  }

  #afterValue(): void {
    const top = this.#stack[this.#stack.length - 1];
    if (top === undefined) this.#rootDone = true;
    else top.state = 'next';
  }

  /** Index of the closing quote of a string whose text starts at `from`, or -1 for more input. */
  #stringEnd(from: number, final: boolean): number {
    const buf = this.#buf;
    let p = from;
    for (;;) {
      const q = buf.indexOf('"', p);
      if (q < 0) {
        if (buf.length - from > this.limits.maxStringLength) {
          throw this.#error('string', `a string is longer than ${this.limits.maxStringLength}`);
        }
        if (final) throw this.#error('json', 'the JSON ends early', buf.length);
        return -1;
      }
      let backslashes = 0;
      for (let b = q - 1; b >= from && buf.charCodeAt(b) === 0x5c; b--) backslashes++;
      if (backslashes % 2 === 0) {
        if (q - from > this.limits.maxStringLength) {
          throw this.#error('string', `a string is longer than ${this.limits.maxStringLength}`);
        }
        return q;
      }
      p = q + 1;
    }
  }

  /** Scans the value being cut; true when it was completed and handed over. */
  #continueCut(final: boolean): boolean {
    const cut = this.#cut as Cut;
    const buf = this.#buf;
    const depthBase = this.#stack.length;
    let p = this.#pos;
    let end = -1;
    if (cut.scalar) {
      if (buf.charCodeAt(cut.start) === 0x22) {
        const q = this.#stringEnd(cut.start + 1, final);
        if (q < 0) return false;
        end = q + 1;
      } else {
        while (p < buf.length) {
          const c = buf.charCodeAt(p);
          if (c === 0x2c || c === 0x7d || c === 0x5d || WS.has(c)) break;
          p++;
        }
        if (p >= buf.length && !final) {
          this.#pos = p;
          return false;
        }
        end = p;
      }
    } else {
      let { depth, inString, escaped, stringStart } = cut;
      const length = buf.length;
      while (p < length) {
        const c = buf.charCodeAt(p);
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 0x5c) escaped = true;
          else if (c === 0x22) {
            inString = false;
            if (p - stringStart > this.limits.maxStringLength) {
              throw this.#error(
                'string',
                `a string is longer than ${this.limits.maxStringLength}`,
                p,
              );
            }
          }
        } else if (c === 0x22) {
          inString = true;
          stringStart = p;
        } else if (c === 0x7b || c === 0x5b) {
          depth++;
          if (depthBase + depth > this.limits.maxDepth) {
            throw this.#error('depth', `nested deeper than ${this.limits.maxDepth}`, p);
          }
        } else if (c === 0x7d || c === 0x5d) {
          depth--;
          if (depth === 0) {
            end = p + 1;
            break;
          }
        }
        p++;
      }
      if (end < 0) {
        if (inString && p - stringStart > this.limits.maxStringLength) {
          throw this.#error('string', `a string is longer than ${this.limits.maxStringLength}`, p);
        }
        if (p - cut.start > cut.limit) {
          throw this.#error('value', `larger than ${cut.limit} characters`, cut.start);
        }
        Object.assign(cut, { depth, inString, escaped, stringStart });
        this.#pos = p;
        if (final) throw this.#error('json', 'the JSON ends early', p);
        return false;
      }
    }
    if (end - cut.start > cut.limit) {
      throw this.#error('value', `larger than ${cut.limit} characters`, cut.start);
    }
    const value = this.#parse(cut.start, end);
    const start = cut.start;
    this.#cut = null;
    this.#pos = end;
    if (!cut.whole) {
      this.consumer.token({ kind: 'scalar', value: value as string | number | boolean | null });
    } else {
      this.consumer.token({ kind: 'value', value, length: end - start });
    }
    this.#afterValue();
    return true;
  }

  #parse(start: number, end: number): unknown {
    try {
      return JSON.parse(this.#buf.slice(start, end));
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw this.#error('json', `not JSON (${detail})`, start);
    }
  }
}
