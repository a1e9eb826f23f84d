export { type FieldViolation, FieldViolations, InvalidArgumentError } from './field-violations.js';
export { type ErrorCode, isVitrineError, VitrineError } from './vitrine-error.js';
