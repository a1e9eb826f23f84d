import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  type SignatureDomain,
  type SigningKeyPair,
  signDetached,
  verifyDetached,
} from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import {
  type TrustSnapshot,
  TrustSnapshotSchema,
  type WatchTrustResponse,
  WatchTrustResponseSchema,
} from '@vitrine/proto/access';

/**
 * Domain of the access service's signature over a TrustSnapshot: the snapshot travels
 * through any channel and rests on disk at every center, so its signature, by the trust key
 * centers are configured with, is what makes it trustworthy.
 */
export const TRUST_DOMAIN: SignatureDomain = 'vitrine/trust/v1\n';

/** Signs a snapshot with the access service's trust key, as WatchTrust sends it. */
export async function signTrustSnapshot(
  snapshot: TrustSnapshot,
  trustKey: SigningKeyPair,
): Promise<WatchTrustResponse> {
  const bytes = toBinary(TrustSnapshotSchema, snapshot);
  const signature = await signDetached(trustKey, TRUST_DOMAIN, bytes);
  return create(WatchTrustResponseSchema, { snapshot: bytes, signature });
}

/**
 * Verifies a signed snapshot against the trust public key and decodes it. The signature is
 * checked over the exact bytes received, before anything in them is read.
 */
export async function verifyTrustSnapshot(
  signed: WatchTrustResponse,
  trustPublicKey: Uint8Array,
): Promise<TrustSnapshot> {
  await verifyDetached(
    trustPublicKey,
    TRUST_DOMAIN,
    signed.snapshot,
    signed.signature,
    'unauthenticated',
  );
  try {
    return fromBinary(TrustSnapshotSchema, signed.snapshot);
  } catch (err) {
    throw new VitrineError('data_loss', 'trust snapshot is signed but does not decode', {
      cause: err,
    });
  }
}

/** A signed snapshot as one file or message: the WatchTrust response's binary encoding. */
export function encodeSignedSnapshot(signed: WatchTrustResponse): Uint8Array {
  return toBinary(WatchTrustResponseSchema, signed);
}

/** Reads what `encodeSignedSnapshot` wrote; the signature still has to be verified. */
export function decodeSignedSnapshot(bytes: Uint8Array): WatchTrustResponse {
  try {
    return fromBinary(WatchTrustResponseSchema, bytes);
  } catch (err) {
    throw new VitrineError('data_loss', 'signed trust snapshot does not decode', { cause: err });
  }
}
