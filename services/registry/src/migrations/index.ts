import type { Migration } from 'kysely';
import * as initial from './0001-initial.js';
import * as fieldWrites from './0002-field-writes.js';
import * as chunkUsers from './0003-chunk-users.js';
import * as findingNumbers from './0004-finding-numbers-widened-residency.js';
import * as unappliedEvents from './0005-unapplied-events.js';
import * as proofNonces from './0006-proof-nonces.js';
import * as transparencyLog from './0009-transparency-log.js';
import * as witnessState from './0010-witness-state.js';
import * as findingStandards from './0012-finding-standards.js';
import * as findingImport from './0013-finding-import.js';
import * as findingServiceLevels from './0014-finding-service-levels.js';
import * as findingDuplicates from './0015-finding-duplicates.js';
import * as findingWatch from './0016-finding-watch.js';

/** The registry's migrations in order; run at every start (Kysely Migrator). */
export const registryMigrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-field-writes': fieldWrites,
  '0003-chunk-users': chunkUsers,
  '0004-finding-numbers-widened-residency': findingNumbers,
  '0005-unapplied-events': unappliedEvents,
  '0006-proof-nonces': proofNonces,
  '0009-transparency-log': transparencyLog,
  '0010-witness-state': witnessState,
  '0012-finding-standards': findingStandards,
  '0013-finding-import': findingImport,
  '0014-finding-service-levels': findingServiceLevels,
  '0015-finding-duplicates': findingDuplicates,
  '0016-finding-watch': findingWatch,
};
