/**
 * Sealed streams: one gRPC stream of a session carries an ordered sequence of frames, each
 * sealed with ChaCha20-Poly1305 (RFC 8439 §2.8, node:crypto, hardware-accelerated), so a
 * proxy, TLS terminator or mesh between two centers can neither read nor alter them.
 *
 * Nonce discipline — why a (key, nonce) pair is never used twice:
 * - Every stream has its own key per direction: BLAKE2b-256 keyed with the session's send
 *   (or receive) key over `vitrine/sealed-stream/v1\n ‖ label`. The session keys are fresh
 *   per handshake (fresh ephemeral X25519 on both sides), and a session hands out at most
 *   one sender and one receiver per label, so no two streams ever share a key.
 * - Within a stream the 96-bit nonce is `00000000 ‖ counter`, the counter a 64-bit
 *   big-endian frame number starting at 0 and increased by one per frame. It is never
 *   sent: both ends count, so a replayed, reordered or dropped frame is opened under the
 *   wrong nonce and fails authentication. The counter is refused past 2^63 frames, far
 *   below the point where it could wrap.
 * - A frame is `flags (1 byte) ‖ ciphertext ‖ tag (16 bytes)`. The flags byte (bit 0:
 *   final) is sent in the clear and authenticated as AAD together with the counter
 *   (AAD = counter as 8 bytes big-endian ‖ flags), so cutting a stream short or marking
 *   an inner frame final fails too; `assertEnded` catches a stream that just stops.
 * Any rejected frame poisons the receiver: it refuses everything after it, and every
 * refusal is `data_loss` with one fixed message that says nothing about why.
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import type { loadSodium } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';

type Sodium = Awaited<ReturnType<typeof loadSodium>>;

const STREAM_DOMAIN = 'vitrine/sealed-stream/v1\n';
const FLAG_FINAL = 0x01;
const TAG_BYTES = 16;
/** Frames per stream are refused from this counter on; the 64-bit counter can never wrap. */
const MAX_FRAMES = 1n << 63n;
const LABEL = /^[\x21-\x7e]{1,128}$/;

/** The per-stream, per-direction key: BLAKE2b-256(key = direction key, domain ‖ label). */
export function streamKey(sodium: Sodium, directionKey: Uint8Array, label: string): Uint8Array {
  if (!LABEL.test(label)) {
    throw new VitrineError('invalid_argument', 'stream label: 1 to 128 printable ASCII characters');
  }
  return sodium.crypto_generichash(32, `${STREAM_DOMAIN}${label}`, directionKey);
}

/** The 12-byte nonce and the 9-byte AAD of frame number `counter`. */
function frameNonce(counter: bigint, flags: number): { nonce: Buffer; aad: Buffer } {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(counter, 4);
  const aad = Buffer.alloc(9);
  aad.writeBigUInt64BE(counter, 0);
  aad[8] = flags;
  return { nonce, aad };
}

/**
 * The sending end of one stream: seals frames in order. Made by `Session.sender`, which
 * guarantees its key is used by no other sender.
 */
export class SealedSender {
  readonly #key: KeyObject;
  #counter: bigint;
  #ended = false;

  /** `firstCounter` exists for tests of the frame limit; sessions always start at 0. */
  constructor(key: Uint8Array, firstCounter = 0n) {
    this.#key = createSecretKey(key);
    this.#counter = firstCounter;
  }

  /**
   * Seals the next frame. `final` marks the last frame of the stream; sealing anything
   * after it is a `failed_precondition`, as is going past 2^63 frames (start a new session).
   * The plaintext may come in parts (their concatenation is sealed): each is encrypted
   * straight into the frame, so bytes held elsewhere (a chunk read from the store) need not
   * be copied into one plaintext first.
   */
  seal(
    plaintext: Uint8Array | readonly Uint8Array[],
    options: { final?: boolean } = {},
  ): Uint8Array {
    return Buffer.concat(this.sealPieces(plaintext, options));
  }

  /**
   * Seals the next frame as `seal` does, as the pieces whose concatenation is the frame:
   * the flags byte, the ciphertext of each plaintext part, the tag. Written out piece by
   * piece, a frame is never copied whole.
   */
  sealPieces(
    plaintext: Uint8Array | readonly Uint8Array[],
    options: { final?: boolean } = {},
  ): Uint8Array[] {
    if (this.#ended) throw new VitrineError('failed_precondition', 'sealed stream already ended');
    if (this.#counter >= MAX_FRAMES) {
      throw new VitrineError('failed_precondition', 'sealed stream frame limit reached');
    }
    const flags = options.final === true ? FLAG_FINAL : 0;
    const { nonce, aad } = frameNonce(this.#counter, flags);
    const cipher = createCipheriv('chacha20-poly1305', this.#key, nonce, {
      authTagLength: TAG_BYTES,
    });
    const parts = plaintext instanceof Uint8Array ? [plaintext] : plaintext;
    let length = 0;
    for (const part of parts) length += part.length;
    cipher.setAAD(aad, { plaintextLength: length });
    const pieces: Uint8Array[] = [Buffer.of(flags)];
    for (const part of parts) pieces.push(cipher.update(part));
    cipher.final();
    pieces.push(cipher.getAuthTag());
    this.#counter++;
    this.#ended = flags === FLAG_FINAL;
    return pieces;
  }
}

/** What one opened frame held. */
export interface OpenedFrame {
  readonly plaintext: Uint8Array;
  /** True for the stream's last frame. */
  readonly final: boolean;
}

/**
 * The receiving end of one stream: opens frames strictly in order and refuses the stream
 * for good at the first frame that is replayed, reordered, dropped, altered, foreign or
 * after the final one.
 */
export class SealedReceiver {
  readonly #key: KeyObject;
  #counter: bigint;
  #state: 'open' | 'ended' | 'failed' = 'open';

  /** `firstCounter` exists for tests of the frame limit; sessions always start at 0. */
  constructor(key: Uint8Array, firstCounter = 0n) {
    this.#key = createSecretKey(key);
    this.#counter = firstCounter;
  }

  /** Opens the next frame, or throws `data_loss` ("sealed frame rejected") and stays failed. */
  open(frame: Uint8Array): OpenedFrame {
    if (this.#state !== 'open') return this.#reject();
    let opened: OpenedFrame | undefined;
    try {
      opened = this.#openNext(frame);
    } catch {
      opened = undefined;
    }
    if (!opened) return this.#reject();
    this.#counter++;
    if (opened.final) this.#state = 'ended';
    return opened;
  }

  /**
   * Call when the transport says the stream is over: throws `data_loss` unless the final
   * frame arrived and nothing was refused, so a stream cut short is never taken as whole.
   */
  assertEnded(): void {
    if (this.#state === 'ended') return;
    if (this.#state === 'failed') this.#reject();
    this.#state = 'failed';
    throw new VitrineError('data_loss', 'sealed stream ended without its final frame');
  }

  /** Authenticates and decrypts frame number `#counter`; undefined when it does not open. */
  #openNext(frame: Uint8Array): OpenedFrame | undefined {
    if (!(frame instanceof Uint8Array) || frame.length < 1 + TAG_BYTES) return undefined;
    if (this.#counter >= MAX_FRAMES) return undefined;
    const flags = frame[0] ?? 0xff;
    if ((flags & ~FLAG_FINAL) !== 0) return undefined;
    const { nonce, aad } = frameNonce(this.#counter, flags);
    const decipher = createDecipheriv('chacha20-poly1305', this.#key, nonce, {
      authTagLength: TAG_BYTES,
    });
    const body = frame.subarray(1, frame.length - TAG_BYTES);
    decipher.setAAD(aad, { plaintextLength: body.length });
    decipher.setAuthTag(frame.subarray(frame.length - TAG_BYTES));
    const plaintext = decipher.update(body);
    decipher.final();
    return { plaintext, final: flags === FLAG_FINAL };
  }

  #reject(): never {
    this.#state = 'failed';
    throw new VitrineError('data_loss', 'sealed frame rejected');
  }
}
