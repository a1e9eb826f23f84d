import type { loadSodium } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import type { SessionKeys, SessionRole } from './handshake-transcript.js';
import { SealedReceiver, SealedSender, streamKey } from './sealed-stream.js';

type Sodium = Awaited<ReturnType<typeof loadSodium>>;

/** What a finished handshake knows about the session it made. */
export interface SessionInit extends SessionKeys {
  readonly id: string;
  readonly peerId: string;
  readonly role: SessionRole;
}

/**
 * An authenticated session with one peer center, made by a handshake: its id (the
 * responder's random 16 bytes, hex, named on later calls), the peer's manifest id, this
 * side's role, and the two transcript-bound keys. Streams are opened from it by label; a
 * label can be sent on once and received on once per session, which is what keeps every
 * (key, nonce) pair of the session unique.
 */
export class Session {
  readonly id: string;
  readonly peerId: string;
  readonly role: SessionRole;
  /** Seals what this side sends; equals the peer's `receiveKey`. */
  readonly sendKey: Uint8Array;
  /** Opens what the peer sends; equals the peer's `sendKey`. */
  readonly receiveKey: Uint8Array;
  readonly #sodium: Sodium;
  readonly #sending = new Set<string>();
  readonly #receiving = new Set<string>();

  constructor(init: SessionInit, sodium: Sodium) {
    this.id = init.id;
    this.peerId = init.peerId;
    this.role = init.role;
    this.sendKey = init.sendKey;
    this.receiveKey = init.receiveKey;
    this.#sodium = sodium;
  }

  /**
   * The sending end of the stream `label` (such as `subscribe:7`). Asking twice for the
   * same label is a `failed_precondition`: two senders would reuse nonces.
   */
  sender(label: string): SealedSender {
    const key = this.#claim(this.#sending, this.sendKey, label, 'sent on');
    try {
      return new SealedSender(key);
    } finally {
      this.#sodium.memzero(key);
    }
  }

  /**
   * The receiving end of the stream `label`. Asking twice is a `failed_precondition`, so
   * a whole stream cannot be played into a second receiver.
   */
  receiver(label: string): SealedReceiver {
    const key = this.#claim(this.#receiving, this.receiveKey, label, 'received on');
    try {
      return new SealedReceiver(key);
    } finally {
      this.#sodium.memzero(key);
    }
  }

  /** Derives the stream key for `label` in one direction, refusing a label already used. */
  #claim(used: Set<string>, directionKey: Uint8Array, label: string, what: string): Uint8Array {
    const key = streamKey(this.#sodium, directionKey, label);
    if (used.has(label)) {
      this.#sodium.memzero(key);
      throw new VitrineError(
        'failed_precondition',
        `stream ${label} was already ${what} in this session`,
      );
    }
    used.add(label);
    return key;
  }
}
