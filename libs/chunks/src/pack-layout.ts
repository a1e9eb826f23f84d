import { readSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { VitrineError } from '@vitrine/errors';
import { errorCode, syncDirectory } from './atomic-file.js';
import { ChunkIndex, type Location } from './chunk-index.js';
import type { ChunkLayout } from './chunk-layout.js';
import { checkTempWritable } from './writable-probe.js';

/**
 * Record header: magic `vtck` (4 bytes), kind (1), reserved (3), length of what follows
 * (4, big-endian), the chunk's SHA-256 (32).
 */
const HEADER_BYTES = 44;
const MAGIC = 0x7674636b;
/** A chunk's bytes follow. */
const KIND_CHUNK = 1;
/** The chunk was deleted; nothing follows. */
const KIND_DELETED = 2;
/** A pack takes records until it would grow past this; the next record starts a new one. */
const PACK_BYTES = 1024 * 1024 * 1024;
const PACK_NAME = /^(\d{8})\.pack$/;
/** Most bytes one read of a batch covers (chunks next to each other in a pack). */
const MAX_SPAN_BYTES = 4 * 1024 * 1024;
/** Packs are written only by the instance that created them, and only appended to. */
const PACK_FILE_MODE = 0o644;
/**
 * Most records, and about the most bytes, appended with one write: records queued while a
 * write is in flight go out together (3,200 chunks of 64 KiB written one by one cost about
 * three times the CPU of the same written sixteen to a call, most of it in the event loop).
 */
const RECORDS_PER_WRITE = 256;
const BYTES_PER_WRITE = 8 * 1024 * 1024;

/** A record waiting to be appended, and its caller. */
interface QueuedRecord {
  readonly kind: number;
  readonly hex: string;
  readonly data: Uint8Array | undefined;
  readonly written: (err?: unknown) => void;
}

/** The pack a store instance appends to, and where its next record goes. */
interface ActivePack {
  readonly pack: number;
  readonly handle: FileHandle;
  tail: number;
}

/**
 * Chunks appended to pack files, `<dir>/packs/<00000001>.pack`, each record a header naming
 * the chunk followed by its bytes. Storing a chunk is one write to an open file, and making
 * any number of them durable is one fdatasync per pack written: a new file per chunk, with
 * its fsync, costs a filesystem about thirty times the CPU (see bench/chunker.ts).
 *
 * - Only the instance that created a pack writes to it, and only by appending, one write
 *   at a time (of every record queued by then), so a crash can only cut the last records
 *   of a pack short. Opening a store reads every record header and indexes the chunks in
 *   memory (a ChunkIndex: 65–130 bytes each); the scan stops at a record cut short, which
 *   was never made durable and so was never reported stored. Each instance starts a pack
 *   of its own (packs are created with O_EXCL), so two instances on one folder never write
 *   the same file.
 * - Chunk bytes are checked against their digest by the store on every read, so a record
 *   that a crash left whole in length but not in content surfaces as `data_loss`.
 * - Deleting a chunk appends a record saying so; its bytes stay in the pack until packs
 *   are compacted, which this layout does not do yet.
 */
export class PackLayout implements ChunkLayout {
  readonly conditionalWrites = false;
  readonly #index = new ChunkIndex();
  /** Every pack, by number: older ones opened read-only, this instance's own read-write. */
  readonly #handles = new Map<number, FileHandle>();
  #nextPack: number;
  #active: ActivePack | undefined;
  /** Records waiting for the write in flight to finish, in the order they were appended. */
  #queue: QueuedRecord[] = [];
  /** The loop writing the queue out, one write at a time; undefined while it is empty. */
  #writing: Promise<void> | undefined;
  /** Packs written since their last fdatasync. */
  readonly #dirty = new Set<FileHandle>();
  /** Packs created whose names are not durable yet (their folder is not fsynced). */
  #newPacks = false;
  /** Records appended so far, and how many of them are durable. */
  #appended = 0;
  #durable = 0;
  #flushing: Promise<void> | undefined;
  #closed = false;

  private constructor(
    private readonly dir: string,
    private readonly deferSync: boolean,
    nextPack: number,
  ) {
    this.#nextPack = nextPack;
  }

  /** Opens the packs in `dir/packs` and indexes their chunks. */
  static async open(dir: string, deferSync: boolean): Promise<PackLayout> {
    const packsDir = join(dir, 'packs');
    await mkdir(packsDir, { recursive: true });
    const numbers = (await readdir(packsDir))
      .map((name) => PACK_NAME.exec(name)?.[1])
      .filter((n) => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const layout = new PackLayout(dir, deferSync, (numbers.at(-1) ?? 0) + 1);
    try {
      for (const pack of numbers) {
        const handle = await open(packPath(dir, pack), 'r');
        layout.#handles.set(pack, handle);
        const { size } = await handle.stat();
        indexPack(handle.fd, size, pack, layout.#index);
      }
    } catch (err) {
      await layout.close();
      throw err;
    }
    return layout;
  }

  async has(hex: string): Promise<boolean> {
    return this.#index.has(hex);
  }

  async write(hex: string, data: Uint8Array): Promise<boolean> {
    await this.#append(KIND_CHUNK, hex, data);
    return true;
  }

  checkWritable(): Promise<void> {
    return checkTempWritable(this.dir);
  }

  async read(hex: string): Promise<Buffer> {
    const at = this.#locate(hex);
    const handle = this.#handles.get(at.pack) as FileHandle;
    // Never from Buffer's shared pool: a read's buffer is its own (see ChunkStore.read).
    const bytes = Buffer.allocUnsafeSlow(at.length);
    const { bytesRead } = await handle.read(bytes, 0, at.length, at.offset);
    if (bytesRead !== at.length) {
      throw new VitrineError('data_loss', `chunk ${hex} is cut short in its pack`);
    }
    return bytes;
  }

  /**
   * Reads each run of chunks that lie one after the other in a pack (an artifact's chunks,
   * as it was uploaded or fetched in order) with one read, up to MAX_SPAN_BYTES.
   */
  async readBatch(hexes: readonly string[]): Promise<(Buffer | undefined)[]> {
    const found = hexes.map((hex) => this.#index.get(hex));
    const out: (Buffer | undefined)[] = new Array(hexes.length).fill(undefined);
    const reads: Promise<void>[] = [];
    for (let i = 0; i < found.length; ) {
      const first = found[i];
      if (first === undefined) {
        i++;
        continue;
      }
      let end = first.offset + first.length;
      let j = i + 1;
      for (let next = found[j]; next !== undefined; next = found[++j]) {
        const adjacent = next.pack === first.pack && next.offset === end + HEADER_BYTES;
        if (!adjacent || next.offset + next.length - first.offset > MAX_SPAN_BYTES) break;
        end = next.offset + next.length;
      }
      reads.push(this.#readSpan(first, end, found.slice(i, j) as Location[], out, i));
      i = j;
    }
    await Promise.all(reads);
    return out;
  }

  /** One read from `first`'s offset to `end`, cut into the chunks `run` at `out[at…]`. */
  async #readSpan(
    first: Location,
    end: number,
    run: readonly Location[],
    out: (Buffer | undefined)[],
    at: number,
  ): Promise<void> {
    const handle = this.#handles.get(first.pack) as FileHandle;
    const span = Buffer.allocUnsafeSlow(end - first.offset);
    const { bytesRead } = await handle.read(span, 0, span.length, first.offset);
    for (const [k, loc] of run.entries()) {
      const start = loc.offset - first.offset;
      if (start + loc.length > bytesRead) {
        throw new VitrineError('data_loss', `a chunk is cut short in pack ${first.pack}`);
      }
      out[at + k] = span.subarray(start, start + loc.length);
    }
  }

  async size(hex: string): Promise<number> {
    return this.#locate(hex).length;
  }

  async delete(hex: string): Promise<boolean> {
    if (!this.#index.has(hex)) return false;
    await this.#append(KIND_DELETED, hex);
    return true;
  }

  /**
   * Makes every record appended before the call durable: one fdatasync per pack written
   * since the last one, shared by every caller waiting at the time.
   */
  async sync(): Promise<void> {
    await this.#written();
    const target = this.#appended;
    while (this.#durable < target) {
      this.#flushing ??= this.#flush().finally(() => {
        this.#flushing = undefined;
      });
      await this.#flushing;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#written();
    await Promise.all([...this.#handles.values()].map((h) => h.close()));
    this.#handles.clear();
  }

  #locate(hex: string): Location {
    const at = this.#index.get(hex);
    if (at === undefined) throw new VitrineError('not_found', `chunk ${hex} not found`);
    return at;
  }

  /** Appends one record after those queued before it; durable at once unless deferred. */
  async #append(kind: number, hex: string, data?: Uint8Array): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#queue.push({ kind, hex, data, written: (err) => (err ? reject(err) : resolve()) });
      this.#startWriting();
    });
    if (!this.deferSync) await this.sync();
  }

  #startWriting(): void {
    this.#writing ??= this.#writeQueue().finally(() => {
      this.#writing = undefined;
      // Queued after the loop saw the queue empty, before this ran.
      if (this.#queue.length > 0) this.#startWriting();
    });
  }

  /** Resolves once every record queued so far has been written (or has failed). */
  async #written(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  /** Writes queued records, as many to a write as fit, until none are left. */
  async #writeQueue(): Promise<void> {
    while (this.#queue.length > 0) {
      let records: QueuedRecord[] = [];
      try {
        const active = await this.#packFor(recordBytes(this.#queue[0] as QueuedRecord));
        records = this.#takeFitting(active);
        await this.#appendNow(active, records);
        for (const record of records) record.written();
      } catch (err) {
        // A failure before any record was taken is the next record's.
        if (records.length === 0) records = this.#queue.splice(0, 1);
        for (const record of records) record.written(err);
      }
    }
  }

  /** The pack the next record goes to: a new one when it would grow the active pack too far. */
  async #packFor(bytes: number): Promise<ActivePack> {
    if (this.#closed) throw new VitrineError('failed_precondition', 'chunk store is closed');
    const active = this.#active;
    if (active === undefined || (active.tail > 0 && active.tail + bytes > PACK_BYTES)) {
      return this.#startPack();
    }
    return active;
  }

  /** Takes the queued records that go into `active` with one write (the first one at least). */
  #takeFitting(active: ActivePack): QueuedRecord[] {
    let bytes = 0;
    let count = 0;
    for (const record of this.#queue) {
      const size = recordBytes(record);
      const full =
        count === RECORDS_PER_WRITE ||
        bytes + size > BYTES_PER_WRITE ||
        active.tail + bytes + size > PACK_BYTES;
      if (count > 0 && full) break;
      bytes += size;
      count++;
    }
    return this.#queue.splice(0, count);
  }

  /** Appends `records` at the tail of `active` with one write, then indexes them. */
  async #appendNow(active: ActivePack, records: readonly QueuedRecord[]): Promise<void> {
    const buffers: Uint8Array[] = [];
    let bytes = 0;
    for (const { kind, hex, data } of records) {
      const length = data?.length ?? 0;
      const header = Buffer.alloc(HEADER_BYTES);
      header.writeUInt32BE(MAGIC, 0);
      header[4] = kind;
      header.writeUInt32BE(length, 8);
      header.write(hex, 12, 'hex');
      buffers.push(header);
      if (data) buffers.push(data);
      bytes += HEADER_BYTES + length;
    }
    const { bytesWritten } = await active.handle.writev(buffers, active.tail);
    if (bytesWritten !== bytes) {
      // The next write goes over what this one left.
      throw new VitrineError('internal', `short write to pack ${active.pack}`);
    }
    for (const { kind, hex, data } of records) {
      const offset = active.tail + HEADER_BYTES;
      const length = data?.length ?? 0;
      active.tail = offset + length;
      this.#appended++;
      if (kind === KIND_CHUNK) this.#index.set(hex, { pack: active.pack, offset, length });
      else this.#index.delete(hex);
    }
    this.#dirty.add(active.handle);
  }

  /** Creates the next free pack (O_EXCL: another instance may have taken a number). */
  async #startPack(): Promise<ActivePack> {
    for (;;) {
      const pack = this.#nextPack++;
      const handle = await open(packPath(this.dir, pack), 'wx+', PACK_FILE_MODE).catch(
        (err: unknown) => {
          if (errorCode(err) === 'EEXIST') return undefined;
          throw err;
        },
      );
      if (handle === undefined) continue;
      this.#handles.set(pack, handle);
      this.#newPacks = true;
      this.#active = { pack, handle, tail: 0 };
      return this.#active;
    }
  }

  async #flush(): Promise<void> {
    const appended = this.#appended;
    const handles = [...this.#dirty];
    const newPacks = this.#newPacks;
    this.#dirty.clear();
    this.#newPacks = false;
    try {
      await Promise.all(handles.map((h) => h.datasync()));
      if (newPacks) await syncDirectory(join(this.dir, 'packs'));
    } catch (err) {
      for (const h of handles) this.#dirty.add(h);
      this.#newPacks ||= newPacks;
      throw err;
    }
    this.#durable = Math.max(this.#durable, appended);
  }
}

function recordBytes(record: QueuedRecord): number {
  return HEADER_BYTES + (record.data?.length ?? 0);
}

function packPath(dir: string, pack: number): string {
  return join(dir, 'packs', `${String(pack).padStart(8, '0')}.pack`);
}

/**
 * Adds the chunks of one pack to `index` (and removes those it records deleted), reading
 * its record headers in order up to the first one that is not whole: the end of what was
 * appended before a crash. Synchronous reads: this runs once, as the store opens.
 */
function indexPack(fd: number, size: number, pack: number, index: ChunkIndex): void {
  const header = Buffer.alloc(HEADER_BYTES);
  for (let at = 0; at + HEADER_BYTES <= size; ) {
    if (readSync(fd, header, 0, HEADER_BYTES, at) < HEADER_BYTES) return;
    const kind = header[4];
    const length = header.readUInt32BE(8);
    const end = at + HEADER_BYTES + length;
    const whole = header.readUInt32BE(0) === MAGIC && end <= size;
    if (!whole || (kind !== KIND_CHUNK && kind !== KIND_DELETED)) return;
    const hex = header.toString('hex', 12, HEADER_BYTES);
    if (kind === KIND_CHUNK) index.set(hex, { pack, offset: at + HEADER_BYTES, length });
    else index.delete(hex);
    at = end;
  }
}
