import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The test files that take longest, slowest first: each starts real services or processes
 * (a whole federation, killed and restarted centers, initdb) and waits on them. Two workers
 * run files side by side, and a run ends when its last file does, so these start first:
 * left for the end, as vitest orders files it has no timings for (CI's clean clone: larger
 * files first), one of them ran on alone while the other worker idled. Timings: the per-file
 * table in docs/embedded-footprint.md; a file missing here merely starts in vitest's order.
 */
export const SLOW_FILES: readonly string[] = [
  'test/federation.test.ts',
  'test/deployment.test.ts',
  'test/kill-resume.test.ts',
  'test/sync-lease.test.ts',
  'services/sync/test/chunk-fetching.test.ts',
  'cli/test/artifact-ids-e2e.test.ts',
  'services/sync/test/sync.test.ts',
  'test/deploy.test.ts',
  'test/built-command.test.ts',
  'libs/storage/test/migrate.test.ts',
  'test/partner-receipts.test.ts',
  'cli/test/dev-database.test.ts',
  'libs/storage/test/pglite-cluster.test.ts',
  'services/registry/test/access-recorder.test.ts',
  'services/sync/test/body-pending.test.ts',
];

/** Vitest's order (its cached timings, else file size), with {@link SLOW_FILES} first. */
export default class SlowFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const index = SLOW_FILES.indexOf(relative(this.ctx.config.root, spec.moduleId));
      return index === -1 ? SLOW_FILES.length : index;
    };
    // Array.prototype.sort is stable: files of equal rank keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
