import { VitrineError } from '@vitrine/errors';
import { errorCode } from './atomic-file.js';
import type { S3ChunkSettings } from './s3-settings.js';

/** What an S3 client error carries that says what went wrong. */
interface S3ErrorShape {
  readonly name?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** Errors of a key or a policy that refuses the request. */
const REFUSED = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch']);
/** Errors of a connection that could not be made or was lost. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/** The S3 error name of `err` (`NoSuchKey`, `PreconditionFailed` …), if it has one. */
export function s3ErrorName(err: unknown): string | undefined {
  const name = (err as S3ErrorShape | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

/** The HTTP status an S3 service answered `err` with, if it answered. */
export function s3Status(err: unknown): number | undefined {
  return (err as S3ErrorShape | undefined)?.$metadata?.httpStatusCode;
}

/** `failed_precondition` for a bucket the service does not have, naming the setting. */
export function missingBucket(err: unknown, settings: S3ChunkSettings): VitrineError {
  const { bucket, endpoint, settingPrefix: setting } = settings;
  return new VitrineError(
    'failed_precondition',
    `chunk store bucket "${bucket}" does not exist at ${endpoint}: create it or fix ${setting}.bucket`,
    { cause: err },
  );
}

/**
 * What a failed request to the bucket becomes, naming the setting an operator fixes:
 * a missing bucket is `failed_precondition` (`<setting>.bucket`); refused credentials or
 * policy, an unreachable endpoint and a failing service are `unavailable` (a caller may
 * retry once it is fixed). The client's error stays the cause, for the server log only.
 */
export function s3Failure(err: unknown, settings: S3ChunkSettings, action: string): VitrineError {
  const { bucket, endpoint, settingPrefix: setting } = settings;
  const name = s3ErrorName(err);
  const status = s3Status(err);
  const code = errorCode(err) ?? errorCode((err as { cause?: unknown } | undefined)?.cause);
  if (name === 'NoSuchBucket') return missingBucket(err, settings);
  if ((name !== undefined && REFUSED.has(name)) || status === 403) {
    return new VitrineError(
      'unavailable',
      `chunk store bucket "${bucket}" refuses to ${action} (${name ?? status}): check ${setting} credentials and the bucket's policy`,
      { cause: err },
    );
  }
  if ((code !== undefined && UNREACHABLE.has(code)) || name === 'TimeoutError') {
    return new VitrineError(
      'unavailable',
      `chunk store endpoint ${endpoint} is unreachable (${code ?? name}): check ${setting}.endpoint`,
      { cause: err },
    );
  }
  return new VitrineError(
    'unavailable',
    `chunk store bucket "${bucket}" failed to ${action} (${name ?? code ?? 'error'}${status ? ` ${status}` : ''})`,
    { cause: err },
  );
}
