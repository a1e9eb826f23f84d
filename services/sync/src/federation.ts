import { readFile } from 'node:fs/promises';
import { type FederationManifest, type SignedManifest, verifyManifest } from '@vitrine/channel';
import { bytesEqual, readKeyFile, type SigningKeyPair } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import type { PeerTransport } from './peer-transport.js';

/** What the signed manifest and the center's key establish: who is in, and who this center is. */
export interface FederationTrust {
  readonly manifest: FederationManifest;
  readonly self: { readonly id: string; readonly signingKey: SigningKeyPair };
  /** The public signing key of a center, for events it originated. */
  originKey(origin: string): Uint8Array | undefined;
}

/** This center as the federation knows it, and how it reaches its peers on the wire. */
export interface Federation extends FederationTrust {
  readonly transport: PeerTransport;
}

/**
 * Reads and verifies the signed federation manifest, and checks that this center is in it
 * under the key it holds: a center whose key the manifest does not list cannot take part.
 */
export async function loadFederation(options: {
  manifestFile: string;
  federationRootKey: string;
  keyFile: string;
  centerId: string;
}): Promise<FederationTrust> {
  const signed = JSON.parse(await readFile(options.manifestFile, 'utf8')) as SignedManifest;
  const manifest = await verifyManifest(signed, Buffer.from(options.federationRootKey, 'base64'));
  const signingKey = await readKeyFile(options.keyFile);
  if (!signingKey) {
    throw new VitrineError('failed_precondition', `no center key at ${options.keyFile}`);
  }
  const listed = manifest.center(options.centerId);
  if (!listed || !bytesEqual(listed.signingKey, signingKey.publicKey)) {
    throw new VitrineError(
      'failed_precondition',
      `the federation manifest does not list center ${options.centerId} with the key in ${options.keyFile}`,
    );
  }
  return {
    manifest,
    self: { id: options.centerId, signingKey },
    originKey: (origin) => manifest.center(origin)?.signingKey,
  };
}
