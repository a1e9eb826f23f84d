import { type NoteKey, type NoteSigner, noteKey, noteSigner, SignatureType } from '@vitrine/tlog';

/** A log this center's witness cosigns: its origin line and the key that signs it. */
export interface KnownLog {
  /** The checkpoint origin line, `<federation>/<name>`; also the log key's name. */
  readonly origin: string;
  /** The name evidence and refusals go by: the center id (or `access`). */
  readonly id: string;
  /** The log's Ed25519 checkpoint key. */
  readonly key: NoteKey;
  /** The cosignature/v1 key of the witness the log's operator runs (each center runs one). */
  readonly witness?: NoteKey;
}

/** A federation member as the signed manifest lists it. */
export interface FederationMember {
  readonly id: string;
  readonly signingKey: Uint8Array;
}

/**
 * Every log a federation's witnesses know, from its signed manifest: each center's. This is
 * the one list; a registry witnesses all of them but its own.
 */
export function knownLogs(federation: string, centers: readonly FederationMember[]): KnownLog[] {
  return [
    ...centers.map((c) => centerLog(federation, c.id, c.signingKey)),
    // The access service's log, `<federation>/access`, joins here when its key is published.
  ];
}

function centerLog(federation: string, id: string, publicKey: Uint8Array): KnownLog {
  const origin = `${federation}/${id}`;
  const witness = witnessKey(federation, id, publicKey);
  return { origin, id, key: noteKey(origin, publicKey), witness };
}

/**
 * The name of a center's witness key, `<federation>/<center>/witness`. The key is the
 * center's Ed25519 key as a cosignature/v1 key (type 0x04): its messages start with
 * `cosignature/v1\n`, which no note, event or manifest the center signs can start with.
 */
export function witnessName(federation: string, center: string): string {
  return `${federation}/${center}/witness`;
}

/** The verifier key of a center's witness. */
export function witnessKey(federation: string, center: string, publicKey: Uint8Array): NoteKey {
  return noteKey(witnessName(federation, center), publicKey, SignatureType.cosignatureV1);
}

/** The signer of a center's cosignatures, from its key pair. */
export function witnessSigner(
  federation: string,
  center: string,
  key: { publicKey: Uint8Array; secretKey: Uint8Array },
): NoteSigner {
  return noteSigner(witnessName(federation, center), key, SignatureType.cosignatureV1);
}
