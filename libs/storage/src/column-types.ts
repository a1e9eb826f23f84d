import pg from 'pg';

/*
 * How column values come back from the database, decided once for both backends so that
 * domain code never branches on the driver:
 *
 * | column        | JavaScript value                              |
 * | ------------- | --------------------------------------------- |
 * | `int8`        | `bigint` (always, not only beyond 2^53)       |
 * | `int8[]`      | `(bigint \| null)[]`, nested for 2-D arrays   |
 * | `bytea`       | a plain `Uint8Array` (never a Node `Buffer`)  |
 * | `timestamptz` | `Date` (both drivers' default)                |
 * | `date`        | `'YYYY-MM-DD'` string (a calendar day, no zone) |
 * | `numeric`     | decimal string (both drivers' default)        |
 *
 * Parameters: `bigint` binds to `int8` on both drivers, any `Uint8Array` to `bytea`,
 * `Date` to `timestamptz`.
 */

/** Postgres type OIDs (pg_type.oid; fixed for built-in types). */
const OID = { bytea: 17, int8: 20, int8Array: 1016, date: 1082 } as const;

/** pg-types' enum of built-in OIDs; any OID is accepted at run time. */
type PgTypeId = Parameters<typeof pg.types.getTypeParser>[0];

/** A text-format value parser, as both drivers call them. */
type TextParser = (text: string) => unknown;

/**
 * Decodes `bytea` text output into a plain Uint8Array that owns its memory (no Buffer
 * pool slab behind it). Hex format is the server default since PostgreSQL 9.0; the
 * legacy escape format goes through pg's own decoder.
 */
function decodeBytea(text: string): Uint8Array {
  if (text.startsWith('\\x')) {
    const hex = text.slice(2);
    const out = new Uint8Array(hex.length >>> 1);
    Buffer.from(out.buffer, out.byteOffset, out.byteLength).write(hex, 'hex');
    return out;
  }
  const legacy = pgDefaultParser(OID.bytea)(text) as Uint8Array;
  return new Uint8Array(legacy);
}

/** pg's process-wide default text parser for a type, read but never replaced. */
function pgDefaultParser(oid: number): TextParser {
  return pg.types.getTypeParser(oid as PgTypeId, 'text');
}

function parseInt8(text: string): bigint {
  return BigInt(text);
}

/** pg parses int8[] elements as strings; turn them (at any depth) into bigints. */
function toBigints(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toBigints);
  return typeof value === 'string' ? BigInt(value) : value;
}

const parseInt8ArrayWithPg: TextParser = (text) => toBigints(pgDefaultParser(OID.int8Array)(text));

function keepText(text: string): string {
  return text;
}

/**
 * Value parsers handed to PGlite's `parsers` option. PGlite builds its array parsers from
 * the element parser, so `int8[]` follows `int8` without an entry of its own.
 */
export const pgliteParsers: Readonly<Record<number, TextParser>> = Object.freeze({
  [OID.int8]: parseInt8,
  [OID.bytea]: decodeBytea,
  [OID.date]: keepText,
});

const pgTextParsers: Readonly<Record<number, TextParser>> = Object.freeze({
  [OID.int8]: parseInt8,
  [OID.int8Array]: parseInt8ArrayWithPg,
  [OID.bytea]: decodeBytea,
  [OID.date]: keepText,
});

/**
 * A per-pool `types` object for node-postgres. It overrides only vitrine's columns and
 * defers to pg's defaults otherwise, leaving pg's process-wide parsers untouched so other
 * pools in the same process (a test harness, a tool) keep their own behaviour.
 */
export function pgTypeParsers(): pg.CustomTypesConfig {
  const getTypeParser = (oid: number, format?: string): unknown => {
    const own = format === 'binary' ? undefined : pgTextParsers[oid];
    return own ?? pg.types.getTypeParser(oid as PgTypeId, format as 'text');
  };
  return { getTypeParser } as pg.CustomTypesConfig;
}
