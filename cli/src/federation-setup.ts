import { join } from 'node:path';
import { loadOrCreateKxKeyFile } from '@vitrine/channel';
import { loadOrCreateKeyFile } from '@vitrine/crypto';

/**
 * Where a center keeps its keys below its folder: the Ed25519 key its registry signs events,
 * manifests and checkpoints with, and the X25519 key-exchange key the manifest lists.
 */
export function centerKeyPaths(centerDir: string): { signing: string; kx: string } {
  const keys = join(centerDir, 'keys');
  return { signing: join(keys, 'center.key'), kx: join(keys, 'center-kx.key') };
}

/** The public half of a center, as the federation manifest lists it. */
export interface CenterPublic {
  readonly id: string;
  readonly jurisdiction: string;
  readonly registry: string;
  readonly sync: string;
  /** base64 Ed25519 public key. */
  readonly signingKey: string;
  /** base64 X25519 public key. */
  readonly kxKey: string;
}

/**
 * Creates a center's signing and key-exchange keys under `centerDir` (files 0600, written
 * atomically), or reuses them when they exist, and returns the center's public part. The
 * one way keys are made, for `vitrine center init` on a center's host and for `vitrine dev`.
 */
export async function prepareCenterKeys(
  centerDir: string,
  center: Omit<CenterPublic, 'signingKey' | 'kxKey'>,
): Promise<CenterPublic> {
  const paths = centerKeyPaths(centerDir);
  const signing = await loadOrCreateKeyFile(paths.signing);
  const kx = await loadOrCreateKxKeyFile(paths.kx);
  return {
    id: center.id,
    jurisdiction: center.jurisdiction,
    registry: center.registry,
    sync: center.sync,
    signingKey: base64(signing.publicKey),
    kxKey: base64(kx.publicKey),
  };
}

export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}
