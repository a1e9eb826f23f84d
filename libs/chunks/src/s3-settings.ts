import { readFile, stat } from 'node:fs/promises';
import { VitrineError } from '@vitrine/errors';

/** An access key of an S3-compatible service. Never logged, never put in a message. */
export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * Where an S3 chunk store keeps chunks: one object per chunk, named by its hex SHA-256 under
 * `prefix` in `bucket`. `settingPrefix` names these settings in a service's config
 * (`registry.chunkStore`), so an error can say which setting to fix.
 */
export interface S3ChunkSettings {
  /** The service's URL, such as `http://127.0.0.1:9000`. */
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  /** Prepended to every object key (`chunks/` by default in service configs). */
  readonly prefix: string;
  /** `http://host/bucket/key` addresses rather than `http://bucket.host/key`. */
  readonly pathStyle: boolean;
  readonly credentials: S3Credentials;
  /** Requests to the service in flight at once, whatever the number of callers. */
  readonly maxInFlight: number;
  /** The config path of these settings, for messages. */
  readonly settingPrefix: string;
}

/** The environment variables credentials are read from when no file is named. */
export const S3_CREDENTIAL_ENV = {
  accessKeyId: 'VITRINE_S3_ACCESS_KEY_ID',
  secretAccessKey: 'VITRINE_S3_SECRET_ACCESS_KEY',
} as const;

/**
 * An S3 access key from `file` — JSON `{ "accessKeyId", "secretAccessKey" }`, readable by
 * its owner only (0600) — or, without a file, from {@link S3_CREDENTIAL_ENV}. Throws
 * `failed_precondition` naming the setting, the file or the variable that is wrong; the
 * secret itself never appears in a message.
 */
export async function loadS3Credentials(
  file: string | undefined,
  env: NodeJS.ProcessEnv,
  setting: string,
): Promise<S3Credentials> {
  if (file === undefined) {
    const accessKeyId = env[S3_CREDENTIAL_ENV.accessKeyId];
    const secretAccessKey = env[S3_CREDENTIAL_ENV.secretAccessKey];
    if (!accessKeyId || !secretAccessKey) {
      throw new VitrineError(
        'failed_precondition',
        `${setting}: no S3 credentials: set ${setting}.credentialsFile or the environment variables ${S3_CREDENTIAL_ENV.accessKeyId} and ${S3_CREDENTIAL_ENV.secretAccessKey}`,
      );
    }
    return { accessKeyId, secretAccessKey };
  }
  const where = `${setting}.credentialsFile (${file})`;
  const info = await stat(file).catch((err: unknown) => {
    throw new VitrineError('failed_precondition', `${where} cannot be read`, { cause: err });
  });
  if ((info.mode & 0o077) !== 0) {
    throw new VitrineError(
      'failed_precondition',
      `${where} is readable by others (mode ${(info.mode & 0o777).toString(8)}): chmod 600 it`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new VitrineError('failed_precondition', `${where} is not JSON`, { cause: err });
  }
  const { accessKeyId, secretAccessKey } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof accessKeyId !== 'string' || typeof secretAccessKey !== 'string') {
    throw new VitrineError(
      'failed_precondition',
      `${where} must hold {"accessKeyId": "…", "secretAccessKey": "…"}`,
    );
  }
  return { accessKeyId, secretAccessKey };
}
