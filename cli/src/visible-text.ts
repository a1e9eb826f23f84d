/**
 * Characters a terminal acts on rather than shows: C0 controls (ESC starts the sequences
 * that clear the screen, set the clipboard through OSC 52 or retitle the window; CR
 * rewrites the line), DEL, C1 controls (U+009B is a one-character CSI), the bidirectional
 * embeddings, overrides and isolates that reorder what is displayed (CVE-2021-42574), and
 * the Unicode line and paragraph separators.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const ACTIVE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Characters JSON leaves raw in strings that a terminal would still act on. */
const ACTIVE_IN_JSON = /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text as the CLI prints it for people: every character of `ACTIVE` is replaced by a
 * visible escape (`\n`, `\r`, `\t`, else `\u001b`-style), so text a partner wrote (a
 * finding title, a comment, a product name) is shown, never obeyed, by the operator's
 * terminal. An escape sequence becomes harmless text such as `\u001b[2J`.
 */
export function visibleText(text: string): string {
  return text.replace(ACTIVE, (char) => NAMED[char] ?? unicodeEscape(char));
}

/**
 * A JSON document with the characters JSON does not escape but terminals act on (DEL,
 * C1, bidirectional controls) written as `\uXXXX` escapes: it parses to exactly the same
 * value, and is safe to print to a terminal. They can only occur inside strings, where
 * `\uXXXX` is valid.
 */
export function terminalSafeJson(json: string): string {
  return json.replace(ACTIVE_IN_JSON, unicodeEscape);
}

/** `\uXXXX` for one UTF-16 code unit (every character of `ACTIVE` is one). */
function unicodeEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}
