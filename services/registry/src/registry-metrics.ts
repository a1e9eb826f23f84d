import { type BatchObservableResult, metrics } from '@opentelemetry/api';
import { severities } from '@vitrine/proto/enum-words';
import type { Kysely } from 'kysely';
import { countOverdue, openFindingGroups } from './queries/findings.js';
import type { RegistryDatabase } from './schema.js';
import type { ServiceLevels } from './service-levels.js';

/**
 * Registers the registry's transparency-log gauges, read from the database when metrics
 * are collected:
 * - `vitrine.registry.log_size`: events in the center's own log;
 * - `vitrine.registry.checkpoint_size` and `vitrine.registry.checkpoint_age_seconds`: the
 *   size of the latest checkpoint signed of it and how long ago it was signed (a log that
 *   has grown while the age climbs is not being signed);
 * - `vitrine.registry.findings_overdue{severity}`: open findings past their due date
 *   (service-levels.ts), every severity with days to fix reported, 0 included.
 * Call it after telemetry starts; it returns a function that removes the callbacks.
 */
export function observeRegistry(
  db: Kysely<RegistryDatabase>,
  center: string,
  levels: ServiceLevels,
  now: () => number = Date.now,
): () => void {
  const meter = metrics.getMeter('vitrine-registry');
  const size = meter.createObservableGauge('vitrine.registry.log_size', {
    description: 'events in this center’s transparency log',
  });
  const checkpointSize = meter.createObservableGauge('vitrine.registry.checkpoint_size', {
    description: 'size of the latest checkpoint signed of this center’s log',
  });
  const age = meter.createObservableGauge('vitrine.registry.checkpoint_age_seconds', {
    unit: 's',
    description: 'seconds since the latest checkpoint of this center’s log was signed',
  });
  const overdue = meter.createObservableGauge('vitrine.registry.findings_overdue', {
    description: 'open findings past their due date, by severity',
  });
  const observe = async (result: BatchObservableResult) => {
    const at = now();
    const [head, latest, late] = await Promise.all([
      db.selectFrom('log_heads').select('seq').where('origin', '=', center).executeTakeFirst(),
      db
        .selectFrom('log_checkpoints')
        .select(['size', 'signed_at'])
        .where('origin', '=', center)
        .orderBy('size', 'desc')
        .limit(1)
        .executeTakeFirst(),
      openFindingGroups(db).then((groups) => countOverdue(db, levels.overdueCutoffs(groups, at))),
    ]);
    result.observe(size, Number(head?.seq ?? 0n));
    if (latest) {
      result.observe(checkpointSize, Number(latest.size));
      result.observe(age, Math.max(0, (at - latest.signed_at.getTime()) / 1000));
    }
    for (const severity of severities.words) {
      const count = late.find((row) => row.severity === severity)?.count ?? 0;
      result.observe(overdue, Number(count), { severity });
    }
  };
  const observables = [size, checkpointSize, age, overdue];
  meter.addBatchObservableCallback(observe, observables);
  return () => meter.removeBatchObservableCallback(observe, observables);
}
