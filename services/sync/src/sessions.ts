import type { Session } from '@vitrine/channel';
import { VitrineError } from '@vitrine/errors';

/** How long a session may wait between its handshake and the stream that uses it. */
export const UNUSED_SESSION_MS = 30_000;

/**
 * Most sessions one peer may hold waiting for their streams: a center runs one
 * subscription and a few chunk fetches at a time, so this leaves ample room while a peer
 * that handshakes without end cannot make this center hold sessions without end.
 */
export const MAX_WAITING_PER_PEER = 64;

/**
 * Sessions agreed by Handshake, waiting for the one stream each may carry. A session is
 * taken out when its stream starts, so its first frame cannot be replayed on another
 * stream; one left unused is forgotten; each peer holds at most MAX_WAITING_PER_PEER.
 */
export class SessionTable {
  readonly #waiting = new Map<string, { session: Session; timer: NodeJS.Timeout }>();
  /** Peer id → how many of its sessions are waiting. */
  readonly #perPeer = new Map<string, number>();

  /**
   * Refuses (`resource_exhausted`) a handshake from a peer already holding its most
   * waiting sessions, before the handshake costs anything.
   */
  assertRoom(peerId: string): void {
    if ((this.#perPeer.get(peerId) ?? 0) >= MAX_WAITING_PER_PEER) {
      throw new VitrineError(
        'resource_exhausted',
        `too many sessions waiting for their streams (${MAX_WAITING_PER_PEER}): use or let them expire`,
      );
    }
  }

  /** Keeps a new session until its stream starts, or until it expires. */
  add(session: Session): void {
    this.assertRoom(session.peerId);
    const timer = setTimeout(() => this.#remove(session.id), UNUSED_SESSION_MS);
    timer.unref();
    this.#waiting.set(session.id, { session, timer });
    this.#perPeer.set(session.peerId, (this.#perPeer.get(session.peerId) ?? 0) + 1);
  }

  /** The session with this id, removed from the table; `unauthenticated` if there is none. */
  take(id: string): Session {
    const entry = this.#remove(id);
    if (!entry)
      throw new VitrineError('unauthenticated', 'unknown, expired or already used session');
    return entry.session;
  }

  /** Forgets every waiting session (at shutdown). */
  clear(): void {
    for (const { timer } of this.#waiting.values()) clearTimeout(timer);
    this.#waiting.clear();
    this.#perPeer.clear();
  }

  #remove(id: string): { session: Session; timer: NodeJS.Timeout } | undefined {
    const entry = this.#waiting.get(id);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.#waiting.delete(id);
    const left = (this.#perPeer.get(entry.session.peerId) ?? 1) - 1;
    if (left === 0) this.#perPeer.delete(entry.session.peerId);
    else this.#perPeer.set(entry.session.peerId, left);
    return entry;
  }
}
