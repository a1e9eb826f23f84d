import { applyPatch, type ChunkPatch, type ChunkStore } from '@vitrine/chunks';
import { toHex } from '@vitrine/crypto';
import { isVitrineError } from '@vitrine/errors';
import type { Kysely } from 'kysely';
import { unrecordedByDigest } from '../queries/chunks.js';
import type { RegistryDatabase } from '../schema.js';
import type { ChunkBase } from './chunk-bases.js';
import { type ChunkReceipt, ChunkRecorder } from './chunk-recorder.js';
import { runBytes } from './serving.js';

/** Unrecorded chunks looked up in the store per query, after a start. */
const STORE_LOOK_PAGE = 1024;

/**
 * Taking chunks from peers: each verified against its digest before it is stored, then
 * recorded as held (in groups, see ChunkRecorder); a chunk sent as a patch is rebuilt from
 * a base held here first. Also finds chunks stored but never recorded (a transfer cut off
 * between the two) and records them, so they are not fetched again.
 */
export class ChunkIntake {
  readonly #recorder: ChunkRecorder;
  /** Bases that could not be read here (lost or corrupt): chunks named after them come whole. */
  readonly unreadableBases = new Set<string>();
  /** Chunks a patch failed to rebuild: asked for whole from then on. */
  readonly wholeOnly = new Set<string>();
  /**
   * Whether every chunk stored here is recorded, as far as this instance knows: false until
   * the store has been looked at once for chunks stored but not recorded (a transfer cut
   * off between the two), and again after a chunk failed to be stored or recorded.
   */
  #storeRecorded = false;

  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly store: ChunkStore,
  ) {
    this.#recorder = new ChunkRecorder(db, store);
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
    const askWhole = () => void this.wholeOnly.add(toHex(digest));
    const receipt = runBytes(this.store, base.run).then(
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
        for (const chunk of base.run) this.unreadableBases.add(toHex(chunk));
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

  /**
   * Records every chunk that is stored but not recorded, looking at all unrecorded ones —
   * once after a start and once after a failed receive; otherwise the store is left alone,
   * since every chunk this instance stores it also records.
   */
  async recordStored(): Promise<void> {
    if (this.#storeRecorded) return;
    let after: Uint8Array | undefined;
    for (;;) {
      const page = await unrecordedByDigest(this.db, STORE_LOOK_PAGE, after);
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
}
