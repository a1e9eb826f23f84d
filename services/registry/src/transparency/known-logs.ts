import { type NoteKey, noteKey, witnessKey } from '@vitrine/tlog';

export { witnessKey, witnessName, witnessSigner } from '@vitrine/tlog';

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

/** The access log's id among known logs, and the name its evidence goes by. */
export const ACCESS_LOG_ID = 'access';

/**
 * Every log a federation's witnesses know, from its signed manifest: each center's, and the
 * access service's (`<federation>/access`, signed by its trust key) when the trust key is
 * given. This is the one list; a registry witnesses all of them but its own.
 */
export function knownLogs(
  federation: string,
  centers: readonly FederationMember[],
  accessTrustKey?: Uint8Array,
): KnownLog[] {
  const logs = centers.map((c) => centerLog(federation, c.id, c.signingKey));
  if (accessTrustKey === undefined) return logs;
  const origin = `${federation}/${ACCESS_LOG_ID}`;
  return [...logs, { origin, id: ACCESS_LOG_ID, key: noteKey(origin, accessTrustKey) }];
}

function centerLog(federation: string, id: string, publicKey: Uint8Array): KnownLog {
  const origin = `${federation}/${id}`;
  const witness = witnessKey(federation, id, publicKey);
  return { origin, id, key: noteKey(origin, publicKey), witness };
}
