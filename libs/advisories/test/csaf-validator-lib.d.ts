// The BSI validator ships JavaScript with JSDoc types only; these are the parts the tests use.
declare module '@secvisogram/csaf-validator-lib/validateStrict.js' {
  export interface ValidationResult {
    isValid: boolean;
    tests: Array<{
      name: string;
      isValid: boolean;
      errors: Array<{ message: string; instancePath: string }>;
    }>;
  }
  export default function validateStrict(
    tests: readonly unknown[],
    document: unknown,
  ): Promise<ValidationResult>;
}
declare module '@secvisogram/csaf-validator-lib/mandatoryTests.js' {
  const tests: Record<string, unknown>;
  export = tests;
}
declare module '@secvisogram/csaf-validator-lib/schemaTests.js' {
  export const csaf_2_0_strict: unknown;
  export const csaf_2_0: unknown;
}
