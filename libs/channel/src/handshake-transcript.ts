import { loadSodium, sha256 } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import type { KxKeyPair } from './center-keys.js';

/** Domain of both handshake signatures; also the first bytes of the hashed transcript. */
export const HANDSHAKE_DOMAIN = 'vitrine/sync-handshake/v1\n';

/** Which side of the handshake a session was made on. */
export type SessionRole = 'initiator' | 'responder';

/** The two directional keys of a session, already bound to the handshake transcript. */
export interface SessionKeys {
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
}

/** What the initiator contributes to the transcript. */
export interface InitiatorPart {
  readonly initiatorId: string;
  readonly responderId: string;
  readonly ephemeralKey: Uint8Array;
  readonly nonce: Uint8Array;
  /** When the initiator made the request, in Unix milliseconds. */
  readonly timestampMs: bigint;
}

/** What the responder adds to it. */
export interface ResponderPart {
  readonly ephemeralKey: Uint8Array;
  readonly nonce: Uint8Array;
  readonly sessionId: Uint8Array;
}

/**
 * T1 after the domain: len-prefixed(initiatorId, responderId, ephemeralKey, nonce,
 * timestamp), the timestamp as 8 bytes, big-endian, two's complement.
 */
export function transcript1(part: InitiatorPart): Uint8Array {
  const utf8 = new TextEncoder();
  const timestamp = new Uint8Array(8);
  new DataView(timestamp.buffer).setBigInt64(0, BigInt.asIntN(64, part.timestampMs));
  return lengthPrefixed([
    utf8.encode(part.initiatorId),
    utf8.encode(part.responderId),
    part.ephemeralKey,
    part.nonce,
    timestamp,
  ]);
}

/** T2 after the domain: T1 ‖ len-prefixed(responderEph, responderNonce, sessionId). */
export function transcript2(t1: Uint8Array, part: ResponderPart): Uint8Array {
  const tail = lengthPrefixed([part.ephemeralKey, part.nonce, part.sessionId]);
  const out = new Uint8Array(t1.length + tail.length);
  out.set(t1, 0);
  out.set(tail, t1.length);
  return out;
}

/**
 * The session keys: libsodium `crypto_kx` client (initiator) or server (responder) keys from
 * the two ephemeral X25519 keys, each then bound to the whole exchange as
 * BLAKE2b-256(key = kx key, message = SHA-256(domain ‖ T2)). A peer whose ephemeral key
 * yields no shared secret (a low-order point) is `unauthenticated`.
 */
export async function bindSessionKeys(
  role: SessionRole,
  own: KxKeyPair,
  peerEphemeral: Uint8Array,
  t2: Uint8Array,
): Promise<SessionKeys> {
  const sodium = await loadSodium();
  let kx: { sharedRx: Uint8Array; sharedTx: Uint8Array };
  try {
    kx =
      role === 'initiator'
        ? sodium.crypto_kx_client_session_keys(own.publicKey, own.secretKey, peerEphemeral)
        : sodium.crypto_kx_server_session_keys(own.publicKey, own.secretKey, peerEphemeral);
  } catch (cause) {
    throw new VitrineError('unauthenticated', 'handshake rejected', { cause });
  }
  const digest = sha256(new TextEncoder().encode(HANDSHAKE_DOMAIN), t2);
  const keys = {
    sendKey: sodium.crypto_generichash(32, digest, kx.sharedTx),
    receiveKey: sodium.crypto_generichash(32, digest, kx.sharedRx),
  };
  sodium.memzero(kx.sharedTx);
  sodium.memzero(kx.sharedRx);
  return keys;
}

/** Each field as a 4-byte big-endian length and its bytes, so no two field lists collide. */
function lengthPrefixed(fields: readonly Uint8Array[]): Uint8Array {
  const size = fields.reduce((n, f) => n + 4 + f.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const field of fields) {
    view.setUint32(at, field.length);
    out.set(field, at + 4);
    at += 4 + field.length;
  }
  return out;
}
