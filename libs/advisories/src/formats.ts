import { InvalidArgumentError } from '@vitrine/errors';

/** The export formats, as `vitrine finding export --format` and the export RPC name them. */
export const EXPORT_FORMATS = ['osv', 'csaf', 'csaf-vex', 'sarif'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Reads an export format name; anything else is invalid_argument listing the known ones. */
export function parseExportFormat(name: string, field = 'format'): ExportFormat {
  if ((EXPORT_FORMATS as readonly string[]).includes(name)) return name as ExportFormat;
  const message = `unknown export format "${name}" (one of ${EXPORT_FORMATS.join(', ')})`;
  throw new InvalidArgumentError(message, [{ field, message }]);
}
