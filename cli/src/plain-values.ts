import type { Timestamp } from '@bufbuild/protobuf/wkt';
import { timestampDate } from '@bufbuild/protobuf/wkt';

/**
 * A uint64 as JSON can carry it: a number while it is a safe integer (every realistic
 * size or sequence), a decimal string beyond that so no digit is silently lost.
 */
export function safeNumber(value: bigint): number | string {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value.toString();
}

/** A protobuf timestamp as an ISO-8601 string, or null when the server left it unset. */
export function isoTime(value: Timestamp | undefined): string | null {
  return value === undefined ? null : timestampDate(value).toISOString();
}

/** Proto3 leaves absent strings empty; JSON output says null instead, so absence is explicit. */
export function orNull(value: string): string | null {
  return value === '' ? null : value;
}
