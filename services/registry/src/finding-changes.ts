import { toBinary } from '@bufbuild/protobuf';
import type { EventBody, EventHeader } from '@vitrine/proto/event';
import { FindingSchema } from '@vitrine/proto/finding';
import type { Kysely } from 'kysely';
import { toFinding } from './convert.js';
import { type FindingChangeRow, insertFindingChanges } from './queries/finding-changes.js';
import { type FindingRow, listFindings } from './queries/findings.js';
import type { RegistryDatabase } from './schema.js';

/**
 * Records the finding changes among events just applied, with the finding as they leave it,
 * at the next watch positions (WatchFindings streams in position order and resumes after a
 * position).
 *
 * The caller must hold this center's log-head row lock, taken before this call and kept to
 * commit: a local append holds it from the start, an ingest takes it last (after the state
 * rows, the order local writes agree with). Positions come from an identity column, and two
 * concurrent transactions taking them freely could commit out of order — a reader that had
 * seen position 8 committed would move past 7 and never see it when it committed later.
 * Under the lock, whoever takes a position commits before the next taker gets the lock, so
 * positions commit in order: a reader that sees a position has seen every smaller one that
 * will ever exist (a rolled-back one never will).
 */
export async function recordFindingChanges(
  tx: Kysely<RegistryDatabase>,
  events: readonly { readonly header: EventHeader; readonly body: EventBody }[],
): Promise<void> {
  const changes: Pick<FindingChangeRow, 'finding_id' | 'origin' | 'seq' | 'change'>[] = [];
  for (const { header, body } of events) {
    const change = findingChangeOf(body);
    if (change) changes.push({ ...change, origin: header.origin, seq: header.seq });
  }
  if (changes.length === 0) return;
  const ids = [...new Set(changes.map((c) => c.finding_id))];
  const found = await listFindings(tx, { ids }, ids.length);
  const states = new Map(found.map((row) => [row.id, stateOf(row)]));
  await insertFindingChanges(
    tx,
    changes.map((change) => {
      const state = states.get(change.finding_id);
      if (!state) throw new Error(`finding ${change.finding_id} changed but is not held`);
      return { ...change, ...state };
    }),
  );
}

/**
 * The finding as a change leaves it. Events applied in one transaction that touch one finding
 * (a batch from a peer) each record the state the whole batch leaves.
 */
function stateOf(row: FindingRow): Pick<FindingChangeRow, 'status' | 'severity' | 'finding'> {
  return {
    status: row.status,
    severity: row.severity,
    finding: toBinary(FindingSchema, toFinding(row)),
  };
}

/** Whether applying `body` changes a finding. */
export function changesFinding(body: EventBody): boolean {
  return findingChangeOf(body) !== undefined;
}

function findingChangeOf(
  body: EventBody,
): Pick<FindingChangeRow, 'finding_id' | 'change'> | undefined {
  const change = body.change;
  switch (change.case) {
    case 'findingCreated':
      return { finding_id: change.value.findingId, change: 'created' };
    case 'findingUpdated':
      return { finding_id: change.value.findingId, change: 'updated' };
    case 'commentAdded':
      return { finding_id: change.value.findingId, change: 'commented' };
    case 'artifactPublished':
    case 'accessUsed':
      return undefined;
    case undefined:
      return undefined;
    default: {
      const unknown: never = change;
      throw new Error(`no finding change for event change ${String(unknown)}`);
    }
  }
}
