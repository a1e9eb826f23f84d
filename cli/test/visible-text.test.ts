import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writeJson, writeLines } from '../src/output.js';
import { formatFields, formatTable } from '../src/text-table.js';
import { terminalSafeJson, visibleText } from '../src/visible-text.js';

/** Every code point a terminal may act on: C0, DEL, C1, bidi controls, line separators. */
const ACTIVE = [
  ...Array.from({ length: 0x20 }, (_, i) => i),
  ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i),
  0x200e,
  0x200f,
  0x2028,
  0x2029,
  0x202a,
  0x202b,
  0x202c,
  0x202d,
  0x202e,
  0x2066,
  0x2067,
  0x2068,
  0x2069,
].map((code) => String.fromCharCode(code));

const clearScreen = 'Key leak\x1b[2J';
const setClipboard = 'ok\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07';

/** What a stream received, as text. */
function written(write: (stream: PassThrough) => void): string {
  const stream = new PassThrough();
  write(stream);
  return stream.read()?.toString('utf8') ?? '';
}

describe('visible text', () => {
  it('turns escape sequences into text a terminal shows', () => {
    expect(visibleText(clearScreen)).toBe('Key leak\\u001b[2J');
    expect(visibleText(setClipboard)).toBe(
      'ok\\u001b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\\u0007',
    );
    expect(visibleText('fixed\rnot fixed')).toBe('fixed\\rnot fixed');
    expect(visibleText('a\nb\tc')).toBe('a\\nb\\tc');
    expect(visibleText('\u009b2J and \u202eevil')).toBe('\\u009b2J and \\u202eevil');
  });

  it('leaves no active character, and printable text untouched', () => {
    for (const char of ACTIVE) {
      const shown = visibleText(`a${char}b`);
      expect(shown).toMatch(/^a\\(u[0-9a-f]{4}|[nrt])b$/);
    }
    const printable = 'Hard-coded key in Zürich — 鍵 ✓ \\u001b (typed) ~';
    expect(visibleText(printable)).toBe(printable);
  });

  it('is applied to every line written as text, error lines included', () => {
    const out = written((stream) => writeLines(stream, [clearScreen, 'comment\rspoof']));
    expect(out).toBe('Key leak\\u001b[2J\ncomment\\rspoof\n');
  });

  it('keeps tables and fields aligned when a cell holds control characters', () => {
    expect(
      formatTable(
        ['id', 'severity', 'title'],
        [
          ['europe-1', 'high\x1b[8m', clearScreen],
          ['us-2', 'low', 'plain'],
        ],
      ),
    ).toEqual([
      'ID        SEVERITY       TITLE',
      'europe-1  high\\u001b[8m  Key leak\\u001b[2J',
      'us-2      low            plain',
    ]);
    expect(formatFields([['title', setClipboard]])).toEqual([
      'title:  ok\\u001b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\\u0007',
    ]);
  });

  it('keeps --json exact while escaping what JSON leaves raw', () => {
    const value = { title: `${clearScreen}\u009b\u202e\u2028`, comment: 'a\rb' };
    const out = written((stream) => writeJson(stream, value));
    expect(JSON.parse(out)).toEqual(value);
    for (const char of ACTIVE.filter((c) => c !== '\n')) expect(out).not.toContain(char);
    expect(out).toContain('\\u009b\\u202e\\u2028');
    expect(terminalSafeJson('"\\u001b"')).toBe('"\\u001b"');
  });
});
