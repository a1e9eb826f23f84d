/** A chunk reference as the manifest lists it. */
export interface ChunkEntry {
  readonly digest: Uint8Array;
  readonly size: number;
}

/** Chunk references in order, with their count: an array of them, or a ChunkList. */
export interface ChunkEntries extends Iterable<ChunkEntry> {
  readonly length: number;
}

const DIGEST_BYTES = 32;

/**
 * An upload's chunk references as its content is cut, in two flat arrays that double when
 * full: 36 bytes a chunk, where a ChunkRef message each held about 250 bytes of heap (16 MiB
 * for the 65,536 chunks of a 4 GiB artifact) until the upload committed.
 */
export class ChunkList implements ChunkEntries {
  #digests = new Uint8Array(DIGEST_BYTES * 1024);
  #sizes = new Uint32Array(1024);
  #count = 0;

  get length(): number {
    return this.#count;
  }

  /** Appends a chunk of `size` bytes; `digest` is a SHA-256 digest (copied in). */
  push(digest: Uint8Array, size: number): void {
    if (digest.length !== DIGEST_BYTES) throw new RangeError('a chunk digest is 32 bytes');
    if (this.#count === this.#sizes.length) {
      const digests = new Uint8Array(this.#digests.length * 2);
      digests.set(this.#digests);
      this.#digests = digests;
      const sizes = new Uint32Array(this.#sizes.length * 2);
      sizes.set(this.#sizes);
      this.#sizes = sizes;
    }
    this.#digests.set(digest, this.#count * DIGEST_BYTES);
    this.#sizes[this.#count] = size;
    this.#count++;
  }

  /** The references in order; each digest is a view into the list. */
  *[Symbol.iterator](): Iterator<ChunkEntry> {
    for (let i = 0; i < this.#count; i++) {
      const digest = this.#digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES);
      yield { digest, size: this.#sizes[i] as number };
    }
  }
}
