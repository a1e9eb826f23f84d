import { VitrineError } from '@vitrine/errors';
import type { StatusWord } from '@vitrine/proto/enum-words';

/**
 * The finding lifecycle: new → triaged → in_progress → fixed → verified → disclosed; any
 * open finding may be rejected or marked duplicate; a fix that fails verification sends
 * the finding back to in_progress. disclosed, rejected and duplicate are final.
 */
const NEXT: Record<StatusWord, readonly StatusWord[]> = {
  new: ['triaged', 'rejected', 'duplicate'],
  triaged: ['in_progress', 'rejected', 'duplicate'],
  in_progress: ['fixed', 'rejected', 'duplicate'],
  fixed: ['verified', 'in_progress'],
  verified: ['disclosed'],
  disclosed: [],
  rejected: [],
  duplicate: [],
};

/** Throws `failed_precondition` unless the lifecycle allows `from → to`. */
export function assertTransition(from: StatusWord, to: StatusWord): void {
  if (NEXT[from].includes(to)) return;
  const allowed = NEXT[from].length > 0 ? NEXT[from].join(', ') : 'none, it is final';
  throw new VitrineError(
    'failed_precondition',
    `a finding cannot move from ${from} to ${to} (from ${from}: ${allowed})`,
  );
}

/** Whether `status` is final: disclosed, rejected or duplicate. */
export function isFinal(status: StatusWord): boolean {
  return NEXT[status].length === 0;
}
