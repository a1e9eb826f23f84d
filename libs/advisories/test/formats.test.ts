import { isVitrineError } from '@vitrine/errors';
import { describe, expect, it } from 'vitest';
import { EXPORT_FORMATS, parseExportFormat } from '../src/index.js';

describe('export format names', () => {
  it('reads each known format', () => {
    expect(EXPORT_FORMATS.map((f) => parseExportFormat(f))).toEqual([
      'osv',
      'csaf',
      'csaf-vex',
      'sarif',
    ]);
  });

  it('refuses an unknown format as invalid_argument naming the known ones', () => {
    for (const name of ['OSV', 'cyclonedx', '', 'csaf_vex']) {
      let caught: unknown;
      try {
        parseExportFormat(name);
      } catch (err) {
        caught = err;
      }
      expect(isVitrineError(caught, 'invalid_argument')).toBe(true);
      expect((caught as Error).message).toBe(
        `unknown export format "${name}" (one of osv, csaf, csaf-vex, sarif)`,
      );
    }
  });
});
