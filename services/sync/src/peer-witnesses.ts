import { ADD_CHECKPOINT_PATH, witnessKey } from '@vitrine/registry';
import type { Witness } from '@vitrine/tlog-store';
import type { Federation } from './federation.js';

/**
 * The witnesses a center has its checkpoints cosigned by: every peer's registry, at its
 * `add-checkpoint` resource, with the peer's witness key from the federation manifest.
 */
export function peerWitnesses(federation: Federation): Witness[] {
  const { manifest, self } = federation;
  return manifest.centers
    .filter((c) => c.id !== self.id)
    .map((c) => ({
      id: c.id,
      url: new URL(ADD_CHECKPOINT_PATH, c.registry).toString(),
      key: witnessKey(manifest.federation, c.id, c.signingKey),
    }));
}
