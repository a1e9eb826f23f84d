/**
 * Where a {@link ChunkStore} keeps chunk bytes: pack files or a file per chunk on local disk,
 * or objects in an S3 bucket. The store checks digests and arguments; a layout only files
 * bytes under a hex digest and finds them again.
 */
export interface ChunkLayout {
  /**
   * Whether {@link write} itself leaves a chunk already held as it is (a conditional
   * create), so a put need not ask {@link has} first.
   */
  readonly conditionalWrites: boolean;
  /** Whether a chunk is held. */
  has(hex: string): Promise<boolean>;
  /**
   * Files a chunk's bytes (verified by the caller). Durable when it resolves, or after the
   * next {@link sync} when the store defers durability to it. False when the chunk was held
   * already (by a conditional create).
   */
  write(hex: string, data: Uint8Array): Promise<boolean>;
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
  /**
   * Resolves when a chunk could be written now; throws `unavailable`, naming where and why,
   * when not. A service reports itself not ready while this fails.
   */
  checkWritable(): Promise<void>;
}
