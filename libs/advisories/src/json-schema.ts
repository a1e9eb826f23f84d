import type { ErrorObject } from 'ajv';

/**
 * Maps every sub-schema object of a JSON schema to its absolute JSON pointer, so a
 * validation error (ajv's `parentSchema`, with `verbose`) can name the exact schema rule
 * it broke, e.g. `#/definitions/region/properties/startLine/minimum`, whatever `$ref`
 * led there.
 */
export function schemaPointers(schema: unknown): WeakMap<object, string> {
  const pointers = new WeakMap<object, string>();
  const walk = (node: unknown, pointer: string): void => {
    if (node === null || typeof node !== 'object' || pointers.has(node)) return;
    pointers.set(node, pointer);
    for (const [key, child] of Object.entries(node)) {
      walk(child, `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`);
    }
  };
  walk(schema, '#');
  return pointers;
}

/** A broken schema rule: where in the document, which rule, and what it says. */
export interface SchemaViolation {
  /** JSONPath of the offending value, e.g. `$.runs[0].results[3].message`. */
  readonly path: string;
  /** The schema rule, e.g. `#/definitions/result/required`. */
  readonly rule: string;
  readonly message: string;
}

/** Turns ajv's instance path (`/locations/0/physicalLocation`) into JSONPath under `base`. */
export function jsonPath(base: string, instancePath: string): string {
  if (instancePath === '') return base;
  let path = base;
  for (const raw of instancePath.slice(1).split('/')) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    path += /^\d+$/.test(part)
      ? `[${part}]`
      : /^[A-Za-z_$][\w$]*$/.test(part)
        ? `.${part}`
        : `[${JSON.stringify(part)}]`;
  }
  return path;
}

/**
 * The violation to report from ajv's errors: the last one, which for `anyOf`/`oneOf` is
 * the summary at the value that failed rather than one branch's complaint.
 */
export function violationOf(
  errors: readonly ErrorObject[] | null | undefined,
  base: string,
  pointers: WeakMap<object, string>,
): SchemaViolation {
  const error = errors?.[errors.length - 1];
  if (error === undefined) return { path: base, rule: '#', message: 'does not match the schema' };
  const parent =
    error.parentSchema !== undefined ? pointers.get(error.parentSchema as object) : undefined;
  const rule = parent !== undefined ? `${parent}/${error.keyword}` : error.schemaPath;
  let message = error.message ?? 'does not match the schema';
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    message = `has an unknown property "${params.additionalProperty}"`;
  } else if (error.keyword === 'enum' && Array.isArray(params.allowedValues)) {
    message = `must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  } else if (error.keyword === 'anyOf' || error.keyword === 'oneOf') {
    // Say what each alternative wanted of this same value.
    const branches = [
      ...new Set(
        (errors ?? [])
          .filter((e) => e !== error && e.instancePath === error.instancePath)
          .map((e) => e.message ?? ''),
      ),
    ].filter((m) => m !== '');
    if (branches.length > 0) message = `${message}: ${branches.join(', or ')}`;
  }
  return { path: jsonPath(base, error.instancePath), rule, message };
}
