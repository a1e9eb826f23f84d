import { type NoteKey, type NoteSigner, noteKey, noteSigner, SignatureType } from './note-keys.js';

/**
 * Each vitrine center runs a witness for the other logs of its federation, and cosigns with
 * the Ed25519 key that signs its own log, as a cosignature/v1 key (type 0x04) named
 * `<federation>/<center>/witness`: cosignature messages start with `cosignature/v1\n`, which
 * no note, event or manifest a center signs can start with.
 */
export function witnessName(federation: string, center: string): string {
  return `${federation}/${center}/witness`;
}

/** The verifier key of a center's witness. */
export function witnessKey(federation: string, center: string, publicKey: Uint8Array): NoteKey {
  return noteKey(witnessName(federation, center), publicKey, SignatureType.cosignatureV1);
}

/**
 * The witness key of the center whose log key is `logKey` (named `<federation>/<center>`):
 * the same public key, as that center's cosignature/v1 key.
 */
export function witnessKeyOfLog(logKey: NoteKey): NoteKey {
  return noteKey(`${logKey.name}/witness`, logKey.publicKey, SignatureType.cosignatureV1);
}

/** The signer of a center's cosignatures, from its key pair. */
export function witnessSigner(
  federation: string,
  center: string,
  key: { publicKey: Uint8Array; secretKey: Uint8Array },
): NoteSigner {
  return noteSigner(witnessName(federation, center), key, SignatureType.cosignatureV1);
}
