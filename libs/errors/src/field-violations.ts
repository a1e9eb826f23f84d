import { VitrineError } from './vitrine-error.js';

/** One bad field of a request: its path (`metadata.product`) and what is wrong with it. */
export interface FieldViolation {
  readonly field: string;
  readonly message: string;
}

/**
 * Collects every bad field of a request so the caller learns about all of them at once,
 * then throws a single `invalid_argument` naming each one.
 */
export class FieldViolations {
  readonly #violations: FieldViolation[] = [];

  /** Records that `field` is bad; returns this for chaining. */
  add(field: string, message: string): this {
    this.#violations.push({ field, message });
    return this;
  }

  /** Records a violation when `ok` is false. */
  check(ok: boolean, field: string, message: string): this {
    if (!ok) this.add(field, message);
    return this;
  }

  get list(): readonly FieldViolation[] {
    return this.#violations;
  }

  /** Throws `invalid_argument` listing every violation, if there is any. */
  throwIfAny(what = 'request'): void {
    if (this.#violations.length === 0) return;
    throw invalidRequest([...this.#violations], what);
  }
}

/** An `invalid_argument` error that keeps the structured list of bad fields. */
export class InvalidArgumentError extends VitrineError {
  constructor(
    message: string,
    readonly violations: readonly FieldViolation[],
  ) {
    super('invalid_argument', message);
  }
}

/**
 * The one builder of "invalid request" errors: `invalid <what>: <field>: <message>; …`,
 * with the violations kept so they also travel as `google.rpc.BadRequest` details.
 */
export function invalidRequest(
  violations: readonly FieldViolation[],
  what = 'request',
): InvalidArgumentError {
  const detail = violations.map((v) => `${v.field}: ${v.message}`).join('; ');
  return new InvalidArgumentError(`invalid ${what}: ${detail}`, violations);
}

/** `invalidRequest` for a request with one bad field. */
export function invalidField(
  field: string,
  message: string,
  what = 'request',
): InvalidArgumentError {
  return invalidRequest([{ field, message }], what);
}
