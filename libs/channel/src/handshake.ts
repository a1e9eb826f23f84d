import {
  bytesEqual,
  loadSodium,
  type SigningKeyPair,
  signDetached,
  toHex,
  verifyDetached,
} from '@vitrine/crypto';
import { FieldViolations, VitrineError } from '@vitrine/errors';
import type { KxKeyPair } from './center-keys.js';
import type { FederationCenter, FederationManifest } from './federation-manifest.js';
import type { HandshakeReplays } from './handshake-replays.js';
import {
  bindSessionKeys,
  HANDSHAKE_DOMAIN,
  transcript1,
  transcript2,
} from './handshake-transcript.js';
import { Session } from './session.js';

type Sodium = Awaited<ReturnType<typeof loadSodium>>;

/** This center as the manifest knows it: its id and its long-term Ed25519 key pair. */
export interface CenterIdentity {
  readonly id: string;
  readonly signingKey: SigningKeyPair;
}

/** The fields both handshake messages carry: sender id, ephemeral X25519 key, nonce, signature. */
interface HandshakeMessage {
  readonly centerId: string;
  readonly ephemeralKey: Uint8Array;
  readonly nonce: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * The initiator's message (proto `HandshakeRequest`): its id, ephemeral X25519 key, 32-byte
 * nonce, the time it was made (Unix milliseconds) and Ed25519 signature over T1.
 */
export interface HandshakeRequest extends HandshakeMessage {
  readonly timestampMs: bigint;
}

/**
 * The responder's answer (proto `HandshakeResponse`): the same fields but the time, over
 * T2, and the session id (16 random bytes as 32 lower-case hex digits) later calls name.
 */
export interface HandshakeResponse extends HandshakeMessage {
  readonly sessionId: string;
}

/** Source of random bytes; injected by tests, libsodium's CSPRNG otherwise. */
export type RandomSource = (length: number) => Uint8Array;

/** What both sides of a handshake need: the verified manifest and who they are in it. */
export interface HandshakeOptions {
  readonly manifest: FederationManifest;
  readonly self: CenterIdentity;
  readonly random?: RandomSource;
  /** The clock, in Unix milliseconds; injected by tests, Date.now otherwise. */
  readonly now?: () => number;
}

/** An initiator's handshake in flight: the request to send, and how to finish it once. */
export interface PendingHandshake {
  readonly request: HandshakeRequest;
  /** Verifies the response and returns the session; a second call is `failed_precondition`. */
  complete(response: HandshakeResponse): Promise<Session>;
}

/**
 * Starts a handshake with the peer `peerId`: a fresh ephemeral X25519 key
 * (`crypto_kx_seed_keypair` over 32 fresh random bytes), nonce and timestamp, signed with
 * this center's long-term key over T1 = `vitrine/sync-handshake/v1\n ‖
 * len-prefixed(initiatorId, responderId, ephemeralKey, nonce, timestamp)`. The response must come from `peerId`, signed with
 * the key the manifest names for it; anything else is `unauthenticated`.
 */
export async function initiateHandshake(
  options: HandshakeOptions & { readonly peerId: string },
): Promise<PendingHandshake> {
  const { manifest, self, peerId } = options;
  const sodium = await loadSodium();
  assertSelf(manifest, self);
  const peer = manifest.center(peerId);
  if (!peer || peer.id === self.id) {
    throw new VitrineError('failed_precondition', `no peer ${peerId} in the federation manifest`);
  }
  const random = options.random ?? sodium.randombytes_buf;
  const ephemeral = ephemeralPair(sodium, random);
  const nonce = random(32);
  const timestampMs = BigInt((options.now ?? Date.now)());
  const t1 = transcript1({
    initiatorId: self.id,
    responderId: peer.id,
    ephemeralKey: ephemeral.publicKey,
    nonce,
    timestampMs,
  });
  const request: HandshakeRequest = {
    centerId: self.id,
    ephemeralKey: ephemeral.publicKey,
    nonce,
    timestampMs,
    signature: await signDetached(self.signingKey, HANDSHAKE_DOMAIN, t1),
  };
  let used = false;
  const complete = async (response: HandshakeResponse): Promise<Session> => {
    if (used) throw new VitrineError('failed_precondition', 'handshake already completed');
    used = true;
    try {
      return await finishAsInitiator(sodium, peer, ephemeral, t1, response);
    } finally {
      sodium.memzero(ephemeral.secretKey);
    }
  };
  return { request, complete };
}

/**
 * Checks the response in order — shape, that it comes from the peer asked, its signature
 * over T2 with the manifest's key for that peer — and binds the session keys.
 */
async function finishAsInitiator(
  sodium: Sodium,
  peer: FederationCenter,
  ephemeral: KxKeyPair,
  t1: Uint8Array,
  response: HandshakeResponse,
): Promise<Session> {
  assertShape(response, 'handshake response', true);
  if (response.centerId !== peer.id) {
    throw new VitrineError('unauthenticated', 'handshake answered by another center');
  }
  const t2 = transcript2(t1, { ...response, sessionId: sessionIdBytes(response.sessionId) });
  await verifyDetached(
    peer.signingKey,
    HANDSHAKE_DOMAIN,
    t2,
    response.signature,
    'unauthenticated',
  );
  const keys = await bindSessionKeys('initiator', ephemeral, response.ephemeralKey, t2);
  const init = { id: response.sessionId, peerId: peer.id, role: 'initiator' as const, ...keys };
  return new Session(init, sodium);
}

/**
 * Answers a handshake request, checking in order: the request's shape (`invalid_argument`),
 * that the initiator is a member (`unauthenticated` "unknown center"), that its timestamp
 * is within the skew window and its nonce not answered before (`unauthenticated`, before
 * any costly step), and its signature over T1 with the key the manifest names for it —
 * not with any key the request brings — (`unauthenticated`); only then is its nonce
 * remembered. Then signs T2 = T1 ‖ len-prefixed(ephemeralKey, nonce, sessionId) with a
 * fresh ephemeral, nonce and session id, and returns the response and the session; the
 * responder knows the initiator holds the keys once the initiator's first sealed frame opens.
 */
export async function respondToHandshake(
  options: HandshakeOptions & {
    readonly request: HandshakeRequest;
    readonly replays: HandshakeReplays;
  },
): Promise<{ response: HandshakeResponse; session: Session }> {
  const { manifest, self, request, replays } = options;
  const sodium = await loadSodium();
  assertSelf(manifest, self);
  assertShape(request, 'handshake request', false);
  const peer = manifest.center(request.centerId);
  if (!peer || peer.id === self.id) throw new VitrineError('unauthenticated', 'unknown center');
  const now = (options.now ?? Date.now)();
  replays.check(request.nonce, request.timestampMs, now);
  const t1 = transcript1({ ...request, initiatorId: peer.id, responderId: self.id });
  await verifyDetached(peer.signingKey, HANDSHAKE_DOMAIN, t1, request.signature, 'unauthenticated');
  replays.remember(request.nonce, request.timestampMs, now);

  const random = options.random ?? sodium.randombytes_buf;
  const ephemeral = ephemeralPair(sodium, random);
  const part = { ephemeralKey: ephemeral.publicKey, nonce: random(32), sessionId: random(16) };
  const t2 = transcript2(t1, part);
  try {
    const signature = await signDetached(self.signingKey, HANDSHAKE_DOMAIN, t2);
    const keys = await bindSessionKeys('responder', ephemeral, request.ephemeralKey, t2);
    const sessionId = toHex(part.sessionId);
    return {
      response: {
        centerId: self.id,
        ephemeralKey: part.ephemeralKey,
        nonce: part.nonce,
        signature,
        sessionId,
      },
      session: new Session({ id: sessionId, peerId: peer.id, role: 'responder', ...keys }, sodium),
    };
  } finally {
    sodium.memzero(ephemeral.secretKey);
  }
}

/** A fresh ephemeral X25519 pair from 32 random bytes (libsodium `crypto_kx_seed_keypair`). */
function ephemeralPair(sodium: Sodium, random: RandomSource): KxKeyPair {
  const seed = random(sodium.crypto_kx_SEEDBYTES);
  const { publicKey, privateKey } = sodium.crypto_kx_seed_keypair(seed);
  sodium.memzero(seed);
  return { publicKey, secretKey: privateKey };
}

/** This center must be in the manifest with the very signing key it holds. */
function assertSelf(manifest: FederationManifest, self: CenterIdentity): void {
  const entry = manifest.center(self.id);
  if (!entry || !bytesEqual(entry.signingKey, self.signingKey.publicKey)) {
    throw new VitrineError(
      'failed_precondition',
      `the federation manifest does not name this signing key for center ${self.id}`,
    );
  }
}

/** Field sizes of a handshake message (proto field names); `invalid_argument` naming each bad one. */
function assertShape(message: HandshakeMessage, what: string, withSessionId: boolean): void {
  const bytes = (value: unknown, length: number) =>
    value instanceof Uint8Array && value.length === length;
  const v = new FieldViolations()
    .check(typeof message.centerId === 'string' && message.centerId !== '', 'center_id', 'required')
    .check(bytes(message.ephemeralKey, 32), 'ephemeral_key', 'must be 32 bytes')
    .check(bytes(message.nonce, 32), 'nonce', 'must be 32 bytes')
    .check(bytes(message.signature, 64), 'signature', 'must be 64 bytes');
  if (withSessionId) {
    const id = (message as Partial<HandshakeResponse>).sessionId;
    v.check(
      typeof id === 'string' && /^[0-9a-f]{32}$/.test(id),
      'session_id',
      'must be 32 lower-case hex digits',
    );
  }
  v.throwIfAny(what);
}

/** The 16 bytes of a session id whose shape `assertShape` checked. */
function sessionIdBytes(id: string): Uint8Array {
  return new Uint8Array(Buffer.from(id, 'hex'));
}
