import type { DescEnum } from '@bufbuild/protobuf';

/**
 * The word vitrine uses for a protobuf enum value in storage, JSON output and on the
 * command line: the value's name without the enum's shared prefix, lower-case
 * (`FINDING_STATUS_IN_PROGRESS` → `in_progress`). Unspecified values have no word.
 */
export function enumWord(schema: DescEnum, value: number): string | undefined {
  const desc = schema.values.find((v) => v.number === value);
  if (!desc || desc.number === 0) return undefined;
  return desc.localName.toLowerCase();
}

/** The enum value for a word (see enumWord); undefined for unknown words. */
export function enumFromWord(schema: DescEnum, word: string): number | undefined {
  const desc = schema.values.find((v) => v.number !== 0 && v.localName.toLowerCase() === word);
  return desc?.number;
}

/** Every word of an enum, in declaration order, for help texts and validation messages. */
export function enumWords(schema: DescEnum): string[] {
  return schema.values.filter((v) => v.number !== 0).map((v) => v.localName.toLowerCase());
}
