import {
  applyPatch,
  type ChunkPatch,
  type ChunkStore,
  patchOf,
  readAhead,
  SharedRelease,
} from '@vitrine/chunks';
import { toHex } from '@vitrine/crypto';
import { isVitrineError, VitrineError } from '@vitrine/errors';
import type { Kysely } from 'kysely';
import type { ArtifactArrivals } from './artifact-arrivals.js';
import { verifyContent } from './artifact-content.js';
import { markAvailable, refreshArtifactHoldings } from './artifact-store.js';
import { type ChunkBase, MAX_BASE_RUN, pairBases, replicatingPairs } from './chunk-bases.js';
import { type ChunkReceipt, ChunkRecorder } from './chunk-recorder.js';
import type { PeerScope } from './replica.js';
import type { RegistryDatabase } from './schema.js';

/** Unrecorded chunks looked up in the store per query, after a start. */
const STORE_LOOK_PAGE = 1024;
/**
 * Chunks read from the store at once when serving a peer (in a pack store, one read where
 * they lie together), and batches read ahead of the peer's stream.
 */
const SERVE_BATCH = 16;
const BATCHES_AHEAD = 2;

/**
 * The artifact bytes side of replication: which chunks this center still lacks, taking a
 * chunk from a peer (verified against its digest before it is stored), completing
 * artifacts whose every chunk is held (whole content verified before they show as
 * available), and serving chunks to peers only where residency allows.
 */
export class ChunkReplica {
  readonly #recorder: ChunkRecorder;
  /** `arrivals.count` when no artifact was found replicating here; -1 until one is looked for. */
  #idleAt = -1;
  /** Bases of each replicating version's new chunks, by its id (computed once per version). */
  readonly #bases = new Map<string, Promise<Map<string, ChunkBase>>>();
  /** Bases that could not be read here (lost or corrupt): chunks named after them come whole. */
  readonly #unreadableBases = new Set<string>();
  /** Chunks a patch failed to rebuild: asked for whole from then on. */
  readonly #wholeOnly = new Set<string>();
  /**
   * Whether every chunk stored here is recorded, as far as this instance knows: false until
   * the store has been looked at once for chunks stored but not recorded (a transfer cut
   * off between the two), and again after a chunk failed to be stored or recorded.
   */
  #storeRecorded = false;

  /**
   * `arrivals`, shared with the replica that ingests events, lets an idle center skip its
   * queries on every commit of the log; without it, every call looks.
   */
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly store: ChunkStore,
    private readonly arrivals?: ArtifactArrivals,
  ) {
    this.#recorder = new ChunkRecorder(db, store);
  }

  /** Whether any artifact is replicating here (no query while none arrived since last seen). */
  async #anyReplicating(): Promise<boolean> {
    if (this.arrivals && this.#idleAt === this.arrivals.count) return false;
    const seen = this.arrivals?.count ?? -1;
    const row = await this.db
      .selectFrom('artifacts')
      .select('id')
      .where('state', '=', 'replicating')
      .limit(1)
      .executeTakeFirst();
    if (!row) this.#idleAt = seen;
    return row !== undefined;
  }

  /**
   * Up to `limit` chunks this center lacks for artifacts still replicating here (unless
   * `peek`, which only counts them). Chunks already in the store but not recorded (a
   * transfer cut off between the two) are first verified and recorded instead of fetched
   * again: the store is looked at for them after a start and after a failed receive, and
   * otherwise left alone, since every chunk this instance stores it also records.
   *
   * They come in the order of the artifacts' content (oldest artifact first), so a peer
   * asked for them in that order reads runs of them with one read each, from packs that
   * hold an artifact's chunks in order, and this center's packs hold them in order too.
   */
  async missing(limit: number, options: { peek?: boolean } = {}): Promise<Uint8Array[]> {
    if (!(await this.#anyReplicating())) return [];
    if (!options.peek && !this.#storeRecorded) await this.#recordStored();
    const rows = await this.#unrecordedRows()
      .orderBy('a.published_hlc')
      .orderBy('a.id')
      .orderBy('ac.idx')
      .limit(limit)
      .execute();
    // A chunk used more than once (within an artifact or by several) is fetched once.
    const seen = new Set<string>();
    return rows.flatMap(({ digest }) => {
      const hex = toHex(digest);
      if (seen.has(hex)) return [];
      seen.add(hex);
      return [digest];
    });
  }

  /** Records every chunk that is stored but not recorded, looking at all unrecorded ones. */
  async #recordStored(): Promise<void> {
    let after: Uint8Array | undefined;
    for (;;) {
      const page = await this.#unrecorded(STORE_LOOK_PAGE, after);
      const stored = await Promise.all(page.map((d) => this.store.has(d)));
      const recorded: Promise<void>[] = [];
      for (const [i, digest] of page.entries()) {
        const receipt = stored[i] ? await this.#recordOrDrop(digest) : undefined;
        if (receipt) recorded.push(receipt.recorded);
      }
      await this.recordNow();
      await Promise.all(recorded);
      after = page.at(-1);
      if (page.length < STORE_LOOK_PAGE) break;
    }
    this.#storeRecorded = true;
  }

  /**
   * Records a chunk found stored but not recorded, or, where its bytes do not match its
   * digest (a write a crash cut short), deletes it so that it is fetched again. Resolves
   * once it is written again; its record is `recordNow`'s to wait for.
   */
  async #recordOrDrop(digest: Uint8Array): Promise<ChunkReceipt | undefined> {
    const bytes = await this.store.read(digest).catch(async (err: unknown) => {
      if (!isVitrineError(err, 'data_loss')) throw err;
      await this.store.delete(digest);
      return undefined;
    });
    if (!bytes) return undefined;
    const receipt = this.receive(digest, bytes);
    await receipt.written;
    return receipt;
  }

  /** Unrecorded chunks of replicating artifacts, each once, in digest order past `after`. */
  async #unrecorded(limit: number, after?: Uint8Array): Promise<Uint8Array[]> {
    let query = this.#unrecordedRows().distinct();
    if (after !== undefined) query = query.where('ac.digest', '>', after);
    const rows = await query.orderBy('ac.digest').limit(limit).execute();
    return rows.map((r) => r.digest);
  }

  /** Every use of a chunk not recorded here by an artifact replicating here. */
  #unrecordedRows() {
    return this.db
      .selectFrom('artifact_chunks as ac')
      .innerJoin('artifacts as a', 'a.id', 'ac.artifact_id')
      .leftJoin('chunks as c', 'c.digest', 'ac.digest')
      .select('ac.digest')
      .where('a.state', '=', 'replicating')
      .where('c.digest', 'is', null);
  }

  /**
   * Stores a chunk a peer sent (`data_loss` if it does not hash to `digest`; a chunk already
   * held is not rewritten) and records it, adding its bytes to every artifact that uses it.
   * The receipt tells when it is written and when recorded: chunks received close together
   * share one sync of the store and one statement, recorded within a few tens of
   * milliseconds or at `recordNow`. A crash after the store and before the record only means
   * the chunk is found again next time.
   */
  receive(digest: Uint8Array, data: Uint8Array): ChunkReceipt {
    // Not async, so `data` is let go once written while the record is still to come.
    const receipt = this.#recorder.write({ digest, size: data.length }, () =>
      this.store.put(data, digest),
    );
    receipt.recorded.catch(() => {
      this.#storeRecorded = false;
    });
    return receipt;
  }

  /** Records every chunk received so far now rather than with its group; resolves once done. */
  recordNow(): Promise<void> {
    return this.#recorder.recordNow();
  }

  /**
   * Stores a chunk a peer sent as a patch of `base`, whose run of chunks is held here:
   * rebuilt from their bytes (each read and verified) and then verified against `digest`
   * like any chunk received (`data_loss` if it does not match; `invalid_argument` if the
   * patch does not fit the base). A run that cannot be read (`not_found`, `data_loss`) is
   * not offered again, and a chunk a patch failed to rebuild is asked for whole from then
   * on, so a bad patch never holds a transfer up.
   */
  receivePatch(digest: Uint8Array, base: ChunkBase, patch: ChunkPatch): ChunkReceipt {
    const askWhole = () => void this.#wholeOnly.add(toHex(digest));
    const receipt = this.#runBytes(base.run).then(
      (bytes) => {
        let rebuilt: Uint8Array;
        try {
          rebuilt = applyPatch({ ...base, bytes }, patch);
        } catch (err) {
          askWhole();
          throw err;
        }
        const received = this.receive(digest, rebuilt);
        received.written.catch(askWhole);
        return received;
      },
      (err: unknown) => {
        for (const chunk of base.run) this.#unreadableBases.add(toHex(chunk));
        throw err;
      },
    );
    const written = receipt.then((r) => r.written);
    const recorded = receipt.then((r) => r.recorded);
    // As with `receive`, awaiting either one is enough.
    written.catch(() => undefined);
    recorded.catch(() => undefined);
    return { written, recorded };
  }

  /** The bytes of a run of chunks held here, concatenated (each read verified). */
  async #runBytes(run: readonly Uint8Array[]): Promise<Uint8Array> {
    if (run.length > MAX_BASE_RUN) {
      throw new VitrineError('invalid_argument', `a chunk base is at most ${MAX_BASE_RUN} chunks`);
    }
    const parts: Uint8Array[] = [];
    for await (const part of this.store.readMany(run)) parts.push(part);
    return new Uint8Array(Buffer.concat(parts));
  }

  /**
   * For chunks this center lacks, the bytes it holds that each likely shares most of its
   * own with: the run of chunks its run replaced in the version its artifact supersedes,
   * where that version is held here whole (alignBases). Peers may send such chunks as
   * patches (see ChunkPatch).
   */
  async basesFor(missing: readonly Uint8Array[]): Promise<Map<string, ChunkBase>> {
    const wanted = new Set(missing.map(toHex));
    const pairs = await replicatingPairs(this.db);
    const current = new Set(pairs.map((p) => p.next));
    for (const id of this.#bases.keys()) if (!current.has(id)) this.#bases.delete(id);
    const usable = (base: ChunkBase) => base.run.every((c) => !this.#unreadableBases.has(toHex(c)));
    const bases = new Map<string, ChunkBase>();
    for (const pair of pairs) {
      let aligned = this.#bases.get(pair.next);
      if (aligned === undefined) {
        aligned = pairBases(this.db, pair);
        this.#bases.set(pair.next, aligned);
        aligned.catch(() => this.#bases.delete(pair.next));
      }
      for (const [hex, base] of await aligned) {
        if (wanted.has(hex) && !this.#wholeOnly.has(hex) && usable(base)) bases.set(hex, base);
      }
    }
    return bases;
  }

  /**
   * Verifies the whole content of every replicating artifact whose chunks are all held and
   * marks it available; returns their ids. One that fails stays replicating (`data_loss`
   * is reported through `onFailure`).
   */
  async complete(onFailure: (id: string, err: unknown) => void = () => {}): Promise<string[]> {
    if (!(await this.#anyReplicating())) return [];
    const replicating = await this.db
      .selectFrom('artifacts')
      .select(['id', 'chunk_count', 'content_digest', 'size', 'bytes_held'])
      .where('state', '=', 'replicating')
      .execute();
    let ready = replicating.filter((a) => a.bytes_held === a.size);
    // Bytes held are counted as chunks are recorded; a count that lags (an artifact
    // recorded while one of its chunks was) is recounted once no chunk is missing.
    if (ready.length < replicating.length && (await this.#unrecorded(1)).length === 0) {
      ready = replicating;
    }
    const done: string[] = [];
    for (const row of ready) {
      try {
        if (row.bytes_held !== row.size) await refreshArtifactHoldings(this.db, row.id);
        await verifyContent(this.db, this.store, row);
        await markAvailable(this.db, row.id);
        done.push(row.id);
      } catch (err) {
        onFailure(row.id, err);
      }
    }
    return done;
  }

  /**
   * The chunks a peer asks for, in order, each with its bytes — or without, where this
   * center does not hold it (yet). Refused with `permission_denied`, before anything is
   * read, when one of them is used only by artifacts that may not be held in the peer's
   * jurisdiction. One query checks them all; chunks are read in batches, ahead of the peer's
   * stream (in a pack store, one read for chunks stored one after the other). Where the
   * peer names a base for a chunk (`bases`, by position) that it may hold and that shares
   * enough of the chunk's bytes, the chunk comes with the patch to send instead. Each chunk
   * served says when the caller is done with its bytes (`done`), so the read they came in
   * is freed at once.
   */
  async *readManyFor(
    peer: PeerScope,
    digests: readonly Uint8Array[],
    bases: readonly (ChunkBase | undefined)[] = [],
  ): AsyncGenerator<ServedChunk> {
    const named = bases.flatMap((b) => (b && b.run.length <= MAX_BASE_RUN ? b.run : []));
    const uses =
      digests.length === 0
        ? []
        : await this.db
            .selectFrom('artifact_chunks as ac')
            .innerJoin('artifacts as a', 'a.id', 'ac.artifact_id')
            .select(['ac.digest', 'a.residency'])
            .where('ac.digest', 'in', [...digests, ...named])
            .execute();
    const allowed = new Map<string, boolean>();
    for (const { digest, residency } of uses) {
      const may = residency.length === 0 || residency.includes(peer.jurisdiction);
      allowed.set(toHex(digest), (allowed.get(toHex(digest)) ?? false) || may);
    }
    if (digests.some((d) => allowed.get(toHex(d)) === false)) {
      throw new VitrineError(
        'permission_denied',
        `chunk of an artifact that may not be held in ${peer.jurisdiction}`,
      );
    }
    // A base the peer names is used only if the peer may hold all of it too. Chunks of one
    // run name the same base: its bytes are read once.
    let lastRun: { key: string; bytes: Promise<Uint8Array | undefined> } | undefined;
    const runBytes = (run: readonly Uint8Array[]) => {
      const key = run.map(toHex).join();
      if (lastRun?.key !== key) {
        const readable = run.length > 0 && run.every((c) => allowed.get(toHex(c)));
        const bytes = readable ? this.#runBytes(run).catch(() => undefined) : undefined;
        lastRun = { key, bytes: Promise.resolve(bytes) };
      }
      return lastRun.bytes;
    };
    const serve = async (
      digest: Uint8Array,
      data: Uint8Array | undefined,
      done: () => void,
      base?: ChunkBase,
    ): Promise<ServedChunk> => {
      if (data === undefined || base === undefined || base.run.length > MAX_BASE_RUN) {
        return { digest, data, done };
      }
      const bytes = await runBytes(base.run);
      const patch = bytes && patchOf(data, { ...base, bytes });
      return patch ? { digest, data, patch, done } : { digest, data, done };
    };
    const readBatch = async (batch: number[]): Promise<ServedChunk[]> => {
      const wanted = batch.map((i) => digests[i] as Uint8Array);
      const readable = wanted.filter((d) => allowed.get(toHex(d)));
      // Not verified here: the peer checks every chunk against its digest before storing
      // it, and takes one that fails from another center; hashing here cost the serving
      // center CPU for nothing (docs/decisions/0012-chunks-served-unverified.md).
      const read = await this.store.readBatch(readable, { verify: false });
      const data = new Map(readable.map((d, k) => [d, read[k]]));
      // The store read the batch into buffers of its own: freed once every chunk is done.
      const memory = new SharedRelease(...new Set(read.flatMap((r) => (r ? [r.buffer] : []))));
      const served: ServedChunk[] = [];
      try {
        for (const [k, i] of batch.entries()) {
          const digest = wanted[k] as Uint8Array;
          served.push(await serve(digest, data.get(digest), memory.take(), bases[i]));
        }
      } finally {
        memory.close();
      }
      return served;
    };
    const batches: number[][] = [];
    for (let i = 0; i < digests.length; i += SERVE_BATCH) {
      batches.push(
        Array.from({ length: Math.min(SERVE_BATCH, digests.length - i) }, (_, k) => i + k),
      );
    }
    for await (const served of readAhead(batches, readBatch, BATCHES_AHEAD)) yield* served;
  }
}

/**
 * A chunk served to a peer: its bytes (undefined where this center does not hold it), and,
 * where the base the peer named shares enough of them, the patch to send instead.
 */
export interface ServedChunk {
  readonly digest: Uint8Array;
  readonly data: Uint8Array | undefined;
  readonly patch?: ChunkPatch;
  /**
   * Call once nothing reads `data` or `patch` any more (sealed into a frame): the read they
   * came in is freed when every chunk of it is done, where it would wait for a garbage
   * collection. Not calling it only leaves the read to the collector.
   */
  readonly done: () => void;
}
