import { fromBinary } from '@bufbuild/protobuf';
import type { AuthenticatedCaller } from '@vitrine/credentials';
import { bytesEqual } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import type { GetDecisionReceiptRequest } from '@vitrine/proto/access';
import { AccessDecisionSchema, SignedAccessDecisionSchema } from '@vitrine/proto/access-decision';
import { formatTlogProof } from '@vitrine/tlog';
import type { CosignatureStore } from '@vitrine/tlog-store';
import { type DecisionLog, partnerRef } from './decision-log.js';

/** Leaves read per query while looking for the newest decision naming an id. */
const SCAN_BATCH = 256;

/** A receipt for one decision: tlog-proof text, and where it stands in the log. */
export interface DecisionReceipt {
  readonly receipt: string;
  readonly leafIndex: number;
  readonly treeSize: number;
}

/** Refusals of a receipt: one message whether the decision is missing or not the caller's. */
const notFound = () => new VitrineError('not_found', 'no such decision of the access log for you');

/**
 * A receipt (c2sp.org/tlog-proof) for the decision `subject` names, in the latest
 * checkpoint with the cosignatures gathered for it. A partner gets one only for a decision
 * whose partner reference is its own; an operator for any. Anything else is `not_found`,
 * exactly as a decision that does not exist, so a partner learns nothing of others'.
 */
export async function decisionReceipt(
  log: DecisionLog,
  cosignatures: CosignatureStore,
  caller: AuthenticatedCaller,
  subject: GetDecisionReceiptRequest['subject'],
): Promise<DecisionReceipt> {
  const checkpoint = await cosignatures.latest();
  if (checkpoint === undefined) throw new VitrineError('unavailable', 'no checkpoint signed yet');
  const index = await indexOf(log, checkpoint.size, subject);
  if (index === undefined) throw notFound();
  const [leaf] = await log.store.leaves(index, index + 1);
  if (leaf === undefined) throw notFound();
  if (caller.kind === 'partner') {
    const decision = decode(leaf);
    if (!bytesEqual(decision.partnerRef, partnerRef(caller.id))) throw notFound();
  }
  const proof = await log.store.inclusionProof(index, checkpoint.size);
  const receipt = formatTlogProof({ index, proof, checkpoint: checkpoint.note, extra: leaf });
  return { receipt, leafIndex: index, treeSize: checkpoint.size };
}

/** The leaf index `subject` names within a tree of `size`; undefined when none. */
async function indexOf(
  log: DecisionLog,
  size: number,
  subject: GetDecisionReceiptRequest['subject'],
): Promise<number | undefined> {
  switch (subject.case) {
    case 'leafIndex':
      return subject.value < BigInt(size) ? Number(subject.value) : undefined;
    case 'requestId':
      return newest(log, size, (d) => d.requestId === subject.value);
    case 'credentialId':
      return newest(log, size, (d) => d.credentialId === subject.value);
    default:
      throw new VitrineError(
        'invalid_argument',
        'name the decision: leaf_index, request_id or credential_id',
      );
  }
}

/** The newest leaf below `size` whose decision matches, read backwards in batches. */
async function newest(
  log: DecisionLog,
  size: number,
  matches: (decision: ReturnType<typeof decode>) => boolean,
): Promise<number | undefined> {
  for (let end = size; end > 0; end -= SCAN_BATCH) {
    const start = Math.max(0, end - SCAN_BATCH);
    const leaves = await log.store.leaves(start, end);
    for (let i = leaves.length - 1; i >= 0; i--) {
      const leaf = leaves[i];
      if (leaf !== undefined && matches(decode(leaf))) return start + i;
    }
  }
  return undefined;
}

/** The decision a stored leaf holds (its signature was made here; not checked again). */
function decode(leaf: Uint8Array) {
  return fromBinary(AccessDecisionSchema, fromBinary(SignedAccessDecisionSchema, leaf).decision);
}
