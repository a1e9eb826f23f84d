import type { Session } from '@vitrine/channel';
import { VitrineError } from '@vitrine/errors';

/** How long a session may wait between its handshake and the stream that uses it. */
const UNUSED_SESSION_MS = 30_000;

/**
 * Sessions agreed by Handshake, waiting for the one stream each may carry. A session is
 * taken out when its stream starts, so its first frame cannot be replayed on another
 * stream; one left unused is forgotten.
 */
export class SessionTable {
  readonly #waiting = new Map<string, { session: Session; timer: NodeJS.Timeout }>();

  /** Keeps a new session until its stream starts, or until it expires. */
  add(session: Session): void {
    const timer = setTimeout(() => this.#waiting.delete(session.id), UNUSED_SESSION_MS);
    timer.unref();
    this.#waiting.set(session.id, { session, timer });
  }

  /** The session with this id, removed from the table; `unauthenticated` if there is none. */
  take(id: string): Session {
    const entry = this.#waiting.get(id);
    if (!entry)
      throw new VitrineError('unauthenticated', 'unknown, expired or already used session');
    clearTimeout(entry.timer);
    this.#waiting.delete(id);
    return entry.session;
  }

  /** Forgets every waiting session (at shutdown). */
  clear(): void {
    for (const { timer } of this.#waiting.values()) clearTimeout(timer);
    this.#waiting.clear();
  }
}
