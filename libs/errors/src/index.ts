export {
  type FieldViolation,
  FieldViolations,
  InvalidArgumentError,
  invalidField,
  invalidRequest,
} from './field-violations.js';
export { type ErrorCode, isVitrineError, VitrineError } from './vitrine-error.js';
