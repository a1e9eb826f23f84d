import { readFile } from 'node:fs/promises';
import { invalidRequest, VitrineError } from '@vitrine/errors';
import type { z } from 'zod';

/**
 * Validates a service's settings once, at start: every bad setting is named by its path
 * (`center.jurisdiction: must be one of jurisdictions`), and the result is frozen so no
 * code can change it later.
 */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
): Readonly<z.infer<S>> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const violations = result.error.issues.map((issue) => ({
      field: issue.path.length > 0 ? issue.path.join('.') : '(top level)',
      message: issue.message,
    }));
    throw invalidRequest(violations, `${what} config`);
  }
  return deepFreeze(result.data);
}

/** Reads and validates a JSON config file. */
export async function readConfigFile<S extends z.ZodType>(
  schema: S,
  path: string,
  what: string,
): Promise<Readonly<z.infer<S>>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new VitrineError('invalid_argument', `cannot read ${what} config ${path}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new VitrineError('invalid_argument', `${what} config ${path} is not valid JSON`, {
      cause,
    });
  }
  return parseConfig(schema, json, `${what} (${path})`);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
