import type { Writable } from 'node:stream';
import type { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { terminalSafeJson, visibleText } from './visible-text.js';

/**
 * Writes one JSON document (pretty-printed, newline-terminated) — the whole of stdout
 * for a `--json` command, so scripts can parse it in one go. It parses to exactly `value`;
 * characters a terminal would act on are `\uXXXX` escapes (see `terminalSafeJson`).
 */
export function writeJson(stream: Writable, value: unknown): void {
  stream.write(`${terminalSafeJson(JSON.stringify(value, null, 2))}\n`);
}

/** Writes one JSON value on one line — for long-running commands whose output is a stream of lines. */
export function writeJsonLine(stream: Writable, value: unknown): void {
  stream.write(`${terminalSafeJson(JSON.stringify(value))}\n`);
}

/**
 * Writes human-readable lines, each newline-terminated. This is where every line of text
 * output passes, so control characters in text from elsewhere (partners' titles and
 * comments, centers' messages) are made visible here (see `visibleText`).
 */
export function writeLines(stream: Writable, lines: readonly string[]): void {
  if (lines.length === 0) return;
  stream.write(`${lines.map(visibleText).join('\n')}\n`);
}

/**
 * The JSON shape of every failure printed with `--json`; `violations` (the bad fields a
 * server named in a `google.rpc.BadRequest` detail, in its field names) only when there
 * are some.
 */
export interface ErrorDocument {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly violations?: readonly { readonly field: string; readonly description: string }[];
  };
}

/** Builds the `--json` error document for a failure. */
export function errorDocument(err: CliError): ErrorDocument {
  if (err.violations.length === 0) return { error: { code: err.code, message: err.message } };
  const violations = err.violations.map((v) => ({ field: v.field, description: v.message }));
  return { error: { code: err.code, message: err.message, violations } };
}

/**
 * Prints a failure the way the output mode asks: `{"error":…}` on stdout with `--json`
 * (so a script reading stdout always gets one document), otherwise one line on stderr.
 * The document is one line, so that long-running commands (`serve`, `dev`), whose output
 * is a stream of JSON lines, end with a line like any other.
 */
export function reportError(io: CliIo, json: boolean, err: CliError): void {
  if (json) writeJsonLine(io.stdout, errorDocument(err));
  else writeLines(io.stderr, [`vitrine: ${err.message} (${err.code})`]);
}

/**
 * Prints a command's result: `json()` as the one JSON document with `--json`, otherwise
 * the lines `human()` renders.
 */
export function writeResult(
  io: CliIo,
  json: boolean,
  result: { json: () => unknown; human: () => readonly string[] },
): void {
  if (json) writeJson(io.stdout, result.json());
  else writeLines(io.stdout, result.human());
}
