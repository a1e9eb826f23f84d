import pino from 'pino';

/**
 * The structured logger every vitrine process uses. A type alias so services depend on
 * `@vitrine/rpc` rather than on the logging library.
 */
export type Logger = pino.Logger;

/** Levels accepted in VITRINE_LOG_LEVEL, quietest last. */
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Key names whose values are secrets: they are replaced before a line is written. */
const SECRET_KEYS = [
  'key',
  'secret',
  'token',
  'credential',
  'credentials',
  'authorization',
  'privateKey',
  'private_key',
  'secretKey',
  'secret_key',
  'password',
  'seed',
] as const;

/**
 * Redaction paths for the secret keys at the top level of a line and up to three
 * levels down (`err.cause.token`, `request.header.authorization`).
 */
function redactPaths(): string[] {
  const prefixes = ['', '*.', '*.*.', '*.*.*.'];
  return prefixes.flatMap((prefix) => SECRET_KEYS.map((key) => `${prefix}${key}`));
}

/** Reads VITRINE_LOG_LEVEL once; an unknown level is a configuration error, not a silent default. */
function levelFrom(env: NodeJS.ProcessEnv): string {
  const level = env.VITRINE_LOG_LEVEL?.trim().toLowerCase() || 'info';
  if (!(LEVELS as readonly string[]).includes(level)) {
    throw new Error(`VITRINE_LOG_LEVEL must be one of ${LEVELS.join(', ')}; got "${level}"`);
  }
  return level;
}

/**
 * Creates the logger for one component: JSON lines on stderr (stdout stays free for a
 * command's output), or appended to `file` for a service that runs inside another command;
 * level from VITRINE_LOG_LEVEL (default info), and values of secret keys (key, secret,
 * token, credential, authorization, privateKey, …) replaced by "[redacted]" so a credential
 * never reaches a log file.
 */
export function createLogger(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
  file?: string,
): Logger {
  return pino(
    {
      name,
      level: levelFrom(env),
      redact: { paths: redactPaths(), censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    pino.destination({ dest: file ?? 2, sync: true, append: true }),
  );
}
