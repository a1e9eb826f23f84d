import {
  consistencyProof,
  encodeEntryBundle,
  type HashReader,
  hashesToStore,
  inclusionProof,
  LogError,
  type NodeId,
  type Tile,
  tileNodes,
  treeRoot,
} from '@vitrine/tlog';
import type { Kysely } from 'kysely';
import type { LogTables } from './log-tables.js';

/**
 * The store's view of the database: tables named at run time, so rows are read as
 * loosely typed records and each value is converted where it is read.
 */
type Row = Record<string, unknown>;
type LooseDb = Kysely<Record<string, Row>>;

/** A database or a transaction of any schema that holds the store's tables. */
// biome-ignore lint/suspicious/noExplicitAny: the owning service's schema is not the store's concern.
export type StoreDb = Kysely<any>;

/** Reads leaves a service keeps elsewhere (the registry's events), instead of `leaves`. */
export interface LeafSource {
  /** Leaves `start` … `end - 1`, all of them, in order. */
  read(db: StoreDb, start: number, end: number): Promise<Uint8Array[]>;
}

export interface LogStoreOptions {
  readonly tables: LogTables;
  /** Which log of the tables (several logs may share them); `''` by default. */
  readonly log?: string;
  /**
   * Where leaves are read from when the service keeps them itself; the store then writes
   * no rows to `tables.leaves`.
   */
  readonly leafSource?: LeafSource;
}

/**
 * One RFC 9162 transparency log kept in a service's database through Kysely. Appends run
 * in the caller's transaction, beside the change they record, and store each leaf and
 * every subtree hash the leaves complete; roots, proofs, hash tiles and entry bundles are
 * then read from storage, never recomputed from the leaves.
 */
export class LogStore {
  readonly tables: LogTables;
  readonly log: string;
  readonly #db: LooseDb;
  readonly #col: string;
  readonly #sizeCol: string;
  readonly #leafSource: LeafSource | undefined;

  constructor(db: StoreDb, options: LogStoreOptions) {
    this.#db = db as LooseDb;
    this.tables = options.tables;
    this.log = options.log ?? '';
    this.#col = options.tables.logColumn ?? 'log';
    this.#sizeCol = options.tables.sizeColumn ?? 'size';
    this.#leafSource = options.leafSource;
  }

  /** Makes the log's head row (size 0) if it has none; call once before the first append. */
  async init(db: StoreDb = this.#db): Promise<void> {
    await (db as LooseDb)
      .insertInto(this.tables.heads)
      .values({ [this.#col]: this.log, [this.#sizeCol]: 0n })
      .onConflict((oc) => oc.column(this.#col).doNothing())
      .execute();
  }

  /**
   * Appends `count` leaves inside `tx`, after locking the log's head (so concurrent appends
   * to this log, from any process, queue behind the transaction until it ends): `make`
   * receives the index the first leaf gets and returns the leaves, so a leaf can name its
   * own position. Stores the leaves and their hashes; returns the first index and the new size.
   */
  async append(
    tx: StoreDb,
    count: number,
    make: (first: number) => Promise<readonly Uint8Array[]> | readonly Uint8Array[],
  ): Promise<{ first: number; size: number }> {
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new LogError('size', `cannot append ${count} leaves`);
    }
    const head = await (tx as LooseDb)
      .updateTable(this.tables.heads)
      .set((eb) => ({ [this.#sizeCol]: eb(this.#sizeCol, '+', BigInt(count)) }))
      .where(this.#col, '=', this.log)
      .returning(`${this.#sizeCol} as size`)
      .executeTakeFirst();
    if (head === undefined) {
      throw new Error(`transparency log '${this.log}' has no head row: call init() first`);
    }
    const size = Number(head.size as bigint);
    const first = size - count;
    const leaves = await make(first);
    if (leaves.length !== count) {
      throw new Error(`asked to append ${count} leaves, given ${leaves.length}`);
    }
    await this.appendAt(tx, first, leaves);
    return { first, size };
  }

  /**
   * Stores `leaves` as leaves `size` … of the log and their hashes, for a caller that
   * serialises appends itself and knows the size (it keeps no head row current).
   */
  async appendAt(tx: StoreDb, size: number, leaves: readonly Uint8Array[]): Promise<void> {
    if (leaves.length === 0) return;
    const db = tx as LooseDb;
    const stored = await hashesToStore(size, leaves, this.hashReader(tx));
    await db
      .insertInto(this.tables.nodes)
      .values(
        stored.map((n) => ({
          [this.#col]: this.log,
          level: n.level,
          idx: BigInt(n.index),
          hash: n.hash,
        })),
      )
      .execute();
    if (this.#leafSource !== undefined) return;
    await db
      .insertInto(this.tables.leaves)
      .values(leaves.map((leaf, i) => ({ [this.#col]: this.log, idx: BigInt(size + i), leaf })))
      .execute();
  }

  /** The number of leaves the log holds (committed, or as `db` sees them). */
  async size(db: StoreDb = this.#db): Promise<number> {
    const row = await (db as LooseDb)
      .selectFrom(this.tables.heads)
      .select(`${this.#sizeCol} as size`)
      .where(this.#col, '=', this.log)
      .executeTakeFirst();
    return Number((row?.size as bigint | undefined) ?? 0n);
  }

  /**
   * Reads stored subtree hashes through `db` (a transaction while appending). Every hash
   * asked for must be stored: a missing one means the log was damaged, and reading on
   * would prove something false.
   */
  hashReader(db: StoreDb = this.#db): HashReader {
    const { nodes } = this.tables;
    const col = this.#col;
    const log = this.log;
    return {
      async readHashes(wanted: readonly NodeId[]): Promise<Uint8Array[]> {
        if (wanted.length === 0) return [];
        const rows = await (db as LooseDb)
          .selectFrom(nodes)
          .select(['level', 'idx', 'hash'])
          .where(col, '=', log)
          .where((eb) =>
            eb(
              eb.refTuple('level', 'idx'),
              'in',
              wanted.map((n) => eb.tuple(n.level, BigInt(n.index))),
            ),
          )
          .execute();
        const byNode = new Map(rows.map((r) => [`${r.level}/${r.idx}`, r.hash as Uint8Array]));
        return wanted.map((n) => {
          const hash = byNode.get(`${n.level}/${n.index}`);
          if (hash === undefined) {
            throw new Error(`transparency log '${log}' lacks subtree ${n.level}/${n.index}`);
          }
          return hash;
        });
      },
    };
  }

  /** The root of the first `size` leaves, from at most one stored hash per level. */
  root(size: number, db: StoreDb = this.#db): Promise<Uint8Array> {
    return treeRoot(size, this.hashReader(db));
  }

  /** The RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves. */
  inclusionProof(index: number, size: number): Promise<Uint8Array[]> {
    return inclusionProof(index, size, this.hashReader());
  }

  /** The RFC 9162 consistency proof from `oldSize` to `newSize` leaves. */
  consistencyProof(oldSize: number, newSize: number): Promise<Uint8Array[]> {
    return consistencyProof(oldSize, newSize, this.hashReader());
  }

  /** Leaves `start` … `end - 1`; throws unless every one is stored. */
  async leaves(start: number, end: number, db: StoreDb = this.#db): Promise<Uint8Array[]> {
    if (end <= start) return [];
    const found =
      this.#leafSource !== undefined
        ? await this.#leafSource.read(db, start, end)
        : await this.#storedLeaves(db as LooseDb, start, end);
    if (found.length !== end - start) {
      throw new Error(`transparency log '${this.log}' lacks leaves of ${start}..${end}`);
    }
    return found;
  }

  /**
   * A tile's bytes (c2sp.org/tlog-tiles): a hash tile is its stored hashes in order, an
   * entry bundle its leaves, each behind a big-endian uint16 length. The caller checks the
   * tile lies within a size the log has reached.
   */
  async tile(tile: Tile): Promise<Uint8Array> {
    if (tile.level === 'entries') {
      const first = tile.index * 256;
      return encodeEntryBundle(await this.leaves(first, first + tile.width));
    }
    return Buffer.concat(await this.hashReader().readHashes(tileNodes(tile)));
  }

  async #storedLeaves(db: LooseDb, start: number, end: number): Promise<Uint8Array[]> {
    const rows = await db
      .selectFrom(this.tables.leaves)
      .select('leaf')
      .where(this.#col, '=', this.log)
      .where('idx', '>=', BigInt(start))
      .where('idx', '<', BigInt(end))
      .orderBy('idx')
      .execute();
    return rows.map((r) => r.leaf as Uint8Array);
  }
}
