/**
 * Freeing a large buffer the moment its owner is done with it, rather than at whichever
 * garbage collection next finds it unreachable.
 *
 * A center receiving an artifact takes about two frame-sized buffers per sealed frame (the
 * message the frame arrived in, and the frame opened) and is done with each within
 * milliseconds. Left to the collector, they pile up as garbage until V8 notices the memory
 * buffers hold (it starts a full collection once that has grown about 64 MB), and glibc
 * keeps the arena pages they filled. Freed here instead, each goes back to malloc at once.
 *
 * It takes `ArrayBuffer.prototype.transfer` (ES2024: Node 22 and later; Node 20 with
 * `--harmony-rab-gsab-transfer`, which `vitrine dev` and `vitrine serve` pass their
 * services where it is needed). Without it, nothing is freed early and the collector frees
 * the buffer as before.
 */

type Transferable = ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };

const transfer = (ArrayBuffer.prototype as Transferable).transfer;

/** True when {@link releaseMemory} frees memory; false when it can only leave it to GC. */
export const canReleaseMemory = typeof transfer === 'function';

/**
 * Flags a Node process needs for {@link releaseMemory} to free memory, for whoever starts
 * one on this same Node: Node 20's V8 has `ArrayBuffer.prototype.transfer` behind a flag;
 * later Nodes have it by default.
 */
export const RELEASE_MEMORY_NODE_FLAGS: readonly string[] =
  Number(process.versions.node.split('.')[0]) < 21 ? ['--harmony-rab-gsab-transfer'] : [];

/**
 * Frees the memory of `buffer` now. Only for a buffer its caller owns outright: every view
 * of it, anywhere, reads as empty afterwards (a detached ArrayBuffer), so no one may still
 * be reading it — not a pending write, not a queued record. A buffer already released, or
 * shared (SharedArrayBuffer), is left alone.
 */
export function releaseMemory(buffer: ArrayBufferLike): void {
  if (transfer === undefined || !(buffer instanceof ArrayBuffer) || buffer.byteLength === 0) {
    return;
  }
  // A transfer to length 0 detaches `buffer` and drops its backing store.
  transfer.call(buffer, 0);
}

/**
 * The memory of buffers shared out in parts to consumers that finish at different times
 * (the chunks of one opened frame, each written to the store in its own time; the chunks of
 * one read, sealed into frames one by one): freed once its owner and every part taken have
 * let go. A part never let go only means the buffers wait for the collector.
 */
export class SharedRelease {
  readonly #buffers: readonly ArrayBufferLike[];
  #holds = 1;
  #closed = false;

  constructor(...buffers: ArrayBufferLike[]) {
    this.#buffers = buffers;
  }

  /** One more holder; call the function returned (once) when it no longer reads the buffers. */
  take(): () => void {
    this.#holds++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#drop();
    };
  }

  /** The owner lets go: the buffers are freed now if no part is still held. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#drop();
  }

  #drop(): void {
    this.#holds--;
    if (this.#holds === 0) for (const buffer of this.#buffers) releaseMemory(buffer);
  }
}
