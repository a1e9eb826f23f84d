/**
 * How a {@link ChunkStore} keeps chunk bytes on disk. The store checks digests and
 * arguments; a layout only files bytes under a hex digest and finds them again.
 */
export interface ChunkLayout {
  /** Whether a chunk is held. */
  has(hex: string): Promise<boolean>;
  /**
   * Files a chunk's bytes (verified by the caller). Durable when it resolves, or after the
   * next {@link sync} when the store defers durability to it.
   */
  write(hex: string, data: Uint8Array): Promise<void>;
  /** A chunk's bytes as stored (not verified); `not_found` when missing. */
  read(hex: string): Promise<Buffer>;
  /**
   * Several chunks' bytes as stored, in order (undefined for one not held); chunks stored
   * one after the other may be read at once.
   */
  readBatch(hexes: readonly string[]): Promise<(Buffer | undefined)[]>;
  /** A chunk's size in bytes; `not_found` when missing. */
  size(hex: string): Promise<number>;
  /** Removes a chunk; false if it was not held. */
  delete(hex: string): Promise<boolean>;
  /** Makes every chunk written so far survive a power loss. */
  sync(): Promise<void>;
  /** Releases open files once pending writes are done; the layout is unusable afterwards. */
  close(): Promise<void>;
}
