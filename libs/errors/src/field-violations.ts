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
    const detail = this.#violations.map((v) => `${v.field}: ${v.message}`).join('; ');
    throw new InvalidArgumentError(`invalid ${what}: ${detail}`, this.#violations);
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
