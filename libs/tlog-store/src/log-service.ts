import type { ServiceImpl } from '@connectrpc/connect';
import { VitrineError } from '@vitrine/errors';
import type { LogService } from '@vitrine/proto/log';
import type { CheckpointPublisher, SignedCheckpoint } from './checkpoint-publisher.js';
import type { CosignatureStore } from './cosignature-store.js';
import type { LogStore } from './log-store.js';

/** The proof methods of `vitrine.log.v1.LogService`, which any log can serve. */
export type LogProofService = Pick<
  ServiceImpl<typeof LogService>,
  'getCheckpoint' | 'getInclusionProof' | 'getConsistencyProof'
>;

/**
 * `GetCheckpoint`, `GetInclusionProof` and `GetConsistencyProof` for one log, read from
 * stored hashes. A size of 0 means the latest checkpoint's; a size beyond it, a leaf
 * outside the tree or an old size of 0 is `invalid_argument`, so every proof is for a
 * size the log has signed. A leaf is named by its index or by `seq` = index + 1. With
 * `cosignatures`, the latest checkpoint carries the witnesses' cosignatures and
 * `GetCheckpoint` names them beside it (cosigners, quorum, final).
 */
export function logProofService(
  store: LogStore,
  checkpoints: CheckpointPublisher,
  cosignatures?: CosignatureStore,
): LogProofService {
  const latest = async (): Promise<SignedCheckpoint> => {
    const checkpoint = await checkpoints.latest();
    if (checkpoint === undefined) throw new VitrineError('unavailable', 'no checkpoint signed yet');
    return checkpoint;
  };
  const signedSize = (asked: bigint, checkpoint: SignedCheckpoint, what: string): number => {
    if (asked > BigInt(checkpoint.size)) {
      throw new VitrineError(
        'invalid_argument',
        `${what} ${asked} is beyond the latest checkpoint (${checkpoint.size})`,
      );
    }
    return asked === 0n ? checkpoint.size : Number(asked);
  };
  const noteAt = (size: number, checkpoint: SignedCheckpoint) =>
    size === checkpoint.size ? checkpoint.note : '';

  return {
    async getCheckpoint() {
      const checkpoint = await latest();
      const served = cosignatures && (await cosignatures.cosigned(checkpoint));
      return {
        checkpoint: served?.note ?? checkpoint.note,
        treeSize: BigInt(checkpoint.size),
        rootHash: checkpoint.root,
        ...(served && {
          cosigners: [...served.cosigners],
          cosignatureCount: served.cosigners.length,
          quorum: served.quorum,
          final: served.final,
        }),
      };
    },

    async getInclusionProof(req) {
      const checkpoint = await latest();
      const size = signedSize(req.treeSize, checkpoint, 'tree size');
      const index = leafIndexOf(req.leaf);
      if (index >= BigInt(size)) {
        throw new VitrineError('invalid_argument', `leaf ${index} is not in a tree of ${size}`);
      }
      const at = Number(index);
      const [leaf] = await store.leaves(at, at + 1);
      return {
        leafIndex: index,
        treeSize: BigInt(size),
        leaf: leaf as Uint8Array,
        proof: await store.inclusionProof(at, size),
        checkpoint: noteAt(size, checkpoint),
      };
    },

    async getConsistencyProof(req) {
      const checkpoint = await latest();
      const newSize = signedSize(req.newSize, checkpoint, 'new size');
      if (req.oldSize < 1n || req.oldSize > BigInt(newSize)) {
        throw new VitrineError(
          'invalid_argument',
          `old size must be from 1 to the new size ${newSize}, not ${req.oldSize}`,
        );
      }
      const oldSize = Number(req.oldSize);
      return {
        oldSize: BigInt(oldSize),
        newSize: BigInt(newSize),
        proof: await store.consistencyProof(oldSize, newSize),
        checkpoint: noteAt(newSize, checkpoint),
      };
    },
  };
}

function leafIndexOf(
  leaf: { case: 'leafIndex' | 'seq'; value: bigint } | { case: undefined; value?: undefined },
): bigint {
  switch (leaf.case) {
    case 'leafIndex':
      return leaf.value;
    case 'seq':
      if (leaf.value < 1n) throw new VitrineError('invalid_argument', 'seq starts at 1');
      return leaf.value - 1n;
    default:
      throw new VitrineError('invalid_argument', 'name the leaf: leaf_index or seq');
  }
}
