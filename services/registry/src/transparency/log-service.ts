import type { Interceptor, ServiceImpl } from '@connectrpc/connect';
import { VitrineError } from '@vitrine/errors';
import { LogService } from '@vitrine/proto/log';
import { consistencyProof, inclusionProof } from '@vitrine/tlog';
import type { CosignatureStore as Cosignatures, ServedCheckpoint } from '@vitrine/tlog-store';
import type { Kysely } from 'kysely';
import { operatorKey } from '../access/operator-interceptor.js';
import type { RegistryDatabase } from '../schema.js';
import type { CheckpointWitness } from './checkpoint-witness.js';
import type { ForkedOrigins } from './forked-origins.js';
import { logLeaf } from './log-leaf.js';
import { logHashReader } from './log-tree-store.js';
import { partnerLogMethods } from './partner-log.js';

/**
 * The LogService handlers: checkpoints and proofs of the center's own log, read from stored
 * hashes; the evidence it keeps against its peers' logs; and resuming a peer found forked,
 * for operators only (`resumeGuard`). A size of 0 means the latest checkpoint's; a size beyond it is refused, so every
 * proof is for a size the center has signed.
 */
export function logService(
  db: Kysely<RegistryDatabase>,
  center: string,
  checkpoints: Cosignatures,
  witness: CheckpointWitness,
  forked: ForkedOrigins,
): ServiceImpl<typeof LogService> {
  const reader = logHashReader(db, center);
  const latest = async (): Promise<ServedCheckpoint> => {
    const checkpoint = await checkpoints.latest();
    if (checkpoint === undefined) throw new VitrineError('unavailable', 'no checkpoint signed yet');
    return checkpoint;
  };
  const signedSize = (asked: bigint, checkpoint: ServedCheckpoint, what: string): number => {
    const size = asked === 0n ? checkpoint.size : Number(asked);
    if (size > checkpoint.size) {
      throw new VitrineError(
        'invalid_argument',
        `${what} ${size} is beyond the latest checkpoint (${checkpoint.size})`,
      );
    }
    return size;
  };
  const noteAt = (size: number, checkpoint: ServedCheckpoint) =>
    size === checkpoint.size ? checkpoint.note : '';

  return {
    ...partnerLogMethods(db, center),

    async getCheckpoint() {
      const checkpoint = await latest();
      return {
        checkpoint: checkpoint.note,
        treeSize: BigInt(checkpoint.size),
        rootHash: checkpoint.root,
        cosigners: [...checkpoint.cosigners],
        cosignatureCount: checkpoint.cosigners.length,
        quorum: checkpoint.quorum,
        final: checkpoint.final,
      };
    },

    async getInclusionProof(req) {
      const checkpoint = await latest();
      const size = signedSize(req.treeSize, checkpoint, 'tree size');
      const index = leafIndexOf(req.leaf);
      if (index >= size) {
        throw new VitrineError('invalid_argument', `leaf ${index} is not in a tree of ${size}`);
      }
      const event = await db
        .selectFrom('events')
        .select(['header', 'signature'])
        .where('origin', '=', center)
        .where('seq', '=', BigInt(index) + 1n)
        .executeTakeFirstOrThrow();
      return {
        leafIndex: BigInt(index),
        treeSize: BigInt(size),
        leaf: logLeaf(event.header, event.signature),
        proof: await inclusionProof(index, size, reader),
        checkpoint: noteAt(size, checkpoint),
      };
    },

    async getConsistencyProof(req) {
      const checkpoint = await latest();
      const newSize = signedSize(req.newSize, checkpoint, 'new size');
      const oldSize = Number(req.oldSize);
      if (oldSize < 1 || oldSize > newSize) {
        throw new VitrineError(
          'invalid_argument',
          `old size must be from 1 to the new size ${newSize}, not ${oldSize}`,
        );
      }
      return {
        oldSize: BigInt(oldSize),
        newSize: BigInt(newSize),
        proof: await consistencyProof(oldSize, newSize, reader),
        checkpoint: noteAt(newSize, checkpoint),
      };
    },

    async listEvidence(req) {
      const evidence = await witness.evidence(req.origin || undefined);
      return {
        evidence: evidence.map((e) => ({
          origin: e.origin,
          kind: e.kind,
          message: e.message,
          checkpoint: e.note,
          otherCheckpoint: e.otherNote ?? '',
          observedAtMs: BigInt(e.observedAt.getTime()),
          resumedAtMs: BigInt(e.resumedAt?.getTime() ?? 0),
          resumedBy: e.resumedBy ?? '',
        })),
      };
    },

    async resumeOrigin(req, context) {
      if (req.origin === '')
        throw new VitrineError('invalid_argument', 'name the origin to resume');
      const by = context.values.get(operatorKey) || 'operator';
      return { evidenceResumed: await forked.resume(req.origin, by) };
    },
  };
}

function leafIndexOf(leaf: { case: 'leafIndex' | 'seq'; value: bigint } | { case: undefined }) {
  switch (leaf.case) {
    case 'leafIndex':
      return Number(leaf.value);
    case 'seq':
      if (leaf.value < 1n) throw new VitrineError('invalid_argument', 'seq starts at 1');
      return Number(leaf.value - 1n);
    case undefined:
      throw new VitrineError('invalid_argument', 'name the event: leaf_index or seq');
    default:
      throw new VitrineError('invalid_argument', 'unknown leaf selector');
  }
}

/** Puts ResumeOrigin behind the registry's operator check; every other method stays open. */
export function resumeGuard(operators: Interceptor): Interceptor {
  return (next) => {
    const guarded = operators(next);
    return (req) =>
      req.method.parent.typeName === LogService.typeName &&
      req.method.name === LogService.method.resumeOrigin.name
        ? guarded(req)
        : next(req);
  };
}
