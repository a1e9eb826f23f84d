import { createHash } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { Chunker, type ChunkStore } from '@vitrine/chunks';
import { bytesEqual, sha256, signDetached, toHex } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import { type Manifest, ManifestSchema } from '@vitrine/proto/artifact';
import { ArtifactPublishedSchema } from '@vitrine/proto/event';
import type { PushArtifactMetadata, PushArtifactRequest } from '@vitrine/proto/registry';
import type { Kysely } from 'kysely';
import { artifactContent } from './artifact-content.js';
import { ChunkList } from './chunk-list.js';
import type { CenterIdentity, EventLog } from './event-log.js';
import { encodeManifest } from './manifest-bytes.js';
import { notFound } from './not-found.js';
import { type ArtifactRow, findArtifact, recordChunks } from './queries/artifacts.js';
import type { RegistryDatabase } from './schema.js';
import { type UploadResidency, uploadResidency } from './upload-residency.js';
import { assertPushMetadata } from './validate.js';

/** Domain prefix of the artifact id preimage and of the origin's manifest signature. */
export const MANIFEST_DOMAIN = 'vitrine/manifest/v1\n';

/** Largest data message of an upload. */
export const MAX_DATA_MESSAGE = 1024 * 1024;

/** Chunk writes an upload keeps in flight (each ends with an fsync). */
const WRITES_IN_FLIGHT = 16;

/** Limits an upload must stay within. */
export interface ArtifactLimits {
  readonly maxArtifactBytes: bigint;
}

/** What an upload did. */
export interface PushOutcome {
  readonly artifact: ArtifactRow;
  readonly created: boolean;
  readonly chunksStored: number;
  readonly chunksReused: number;
}

/**
 * Artifacts at one center: uploads are chunked as they stream in (content-defined, so a new
 * version shares most chunks with the last), each chunk written once to the chunk store;
 * the manifest is signed and published as an event only once every byte is safely stored.
 * Downloads stream chunk by chunk, each verified as it is read.
 */
export class Artifacts {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly log: EventLog,
    private readonly store: ChunkStore,
    private readonly center: CenterIdentity,
    private readonly jurisdictions: readonly string[],
    private readonly limits: ArtifactLimits,
  ) {}

  /**
   * Stores an upload: metadata first, then bytes. Identical content and metadata → same id.
   * A cancelled call can look like a clean end of stream (HTTP/2 RST_STREAM ends the
   * request body), so `signal` is checked before anything is committed.
   */
  async push(
    actor: string,
    requests: AsyncIterable<PushArtifactRequest>,
    signal: AbortSignal,
  ): Promise<PushOutcome> {
    const iterator = requests[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done || first.value.part.case !== 'metadata') {
      throw new VitrineError('invalid_argument', 'the first message of an upload must be metadata');
    }
    const meta = first.value.part.value;
    assertPushMetadata(meta, this.jurisdictions);
    const residency = uploadResidency(meta, await this.#superseded(meta.supersedes));
    const content = await this.#ingest({ [Symbol.asyncIterator]: () => iterator });
    assertNotCancelled(signal);
    await this.store.sync();
    if (meta.expectedDigest.length > 0 && !bytesEqual(meta.expectedDigest, content.digest)) {
      throw new VitrineError('data_loss', 'the uploaded bytes do not match expected_digest');
    }
    const manifest = manifestOf(meta, residency, content);
    const manifestBytes = encodeManifest(manifest, content.chunks);
    const id = artifactId(manifestBytes);
    const signature = await signDetached(this.center.signingKey, MANIFEST_DOMAIN, manifestBytes);
    const created = await this.log.transact(this.db, async (tx) => {
      await this.log.lock(tx);
      assertNotCancelled(signal);
      if (await findArtifact(tx, id)) return false;
      await recordChunks(tx, content.chunks);
      await this.log.append(
        tx,
        actor,
        {
          case: 'artifactPublished',
          value: create(ArtifactPublishedSchema, {
            artifactId: id,
            manifest: manifestBytes,
            manifestSignature: signature,
          }),
        },
        manifest.residency,
      );
      return true;
    });
    const artifact = await findArtifact(this.db, id);
    if (!artifact) throw new Error(`artifact ${id} missing after upload`);
    return { artifact, created, chunksStored: content.stored, chunksReused: content.reused };
  }

  /** Streams an available artifact's bytes in order, verifying every chunk and the whole. */
  async *pull(row: ArtifactRow): AsyncGenerator<Uint8Array> {
    if (row.state !== 'available') {
      throw new VitrineError(
        'failed_precondition',
        `artifact ${row.id} is still replicating to this center (${row.bytes_held} of ${row.size} bytes)`,
      );
    }
    yield* artifactContent(this.db, this.store, row);
  }

  /** One artifact or `not_found`. */
  async get(id: string): Promise<ArtifactRow> {
    const row = await findArtifact(this.db, id);
    if (!row) throw notFound('artifact', [id]);
    return row;
  }

  /**
   * The artifact an upload supersedes, which this center must hold: its residency decides
   * the new one's. One withheld here by residency is as unknown as one never published.
   */
  async #superseded(id: string): Promise<ArtifactRow | undefined> {
    if (id === '') return undefined;
    const row = await findArtifact(this.db, id);
    if (!row) {
      throw new VitrineError(
        'not_found',
        `superseded artifact ${id} not found at this center; push the new version where it is held`,
      );
    }
    return row;
  }

  /** Chunks and stores the data messages of an upload, keeping a few writes in flight. */
  async #ingest(rest: AsyncIterable<PushArtifactRequest>): Promise<IngestedContent> {
    const chunker = new Chunker();
    const whole = createHash('sha256');
    const chunks = new ChunkList();
    const inFlight = new Set<Promise<void>>();
    const counts = { stored: 0, reused: 0 };
    let size = 0n;
    // The first write that failed: a write leaves inFlight once settled, so its failure is
    // kept here, or the upload would be recorded without the chunk.
    let failed: { err: unknown } | undefined;
    const write = async (data: Uint8Array) => {
      if (failed) throw failed.err;
      const digest = sha256(data);
      chunks.push(digest, data.length);
      const done = this.store.put(data, digest).then(
        (r) => {
          counts[r.stored ? 'stored' : 'reused']++;
        },
        (err: unknown) => {
          failed ??= { err };
        },
      );
      const tracked = done.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(inFlight);
    };
    try {
      for await (const request of rest) {
        const part = request.part;
        if (part.case !== 'data') {
          throw new VitrineError('invalid_argument', 'after metadata, an upload carries only data');
        }
        if (part.value.length > MAX_DATA_MESSAGE) {
          throw new VitrineError(
            'invalid_argument',
            `data messages are at most ${MAX_DATA_MESSAGE} bytes`,
          );
        }
        size += BigInt(part.value.length);
        if (size > this.limits.maxArtifactBytes) {
          throw new VitrineError(
            'resource_exhausted',
            `artifact exceeds this center's limit of ${this.limits.maxArtifactBytes} bytes`,
          );
        }
        whole.update(part.value);
        for (const chunk of chunker.push(part.value)) await write(chunk);
      }
      for (const chunk of chunker.finish()) await write(chunk);
    } finally {
      await Promise.allSettled(inFlight);
    }
    if (failed) throw failed.err;
    return { digest: new Uint8Array(whole.digest()), size, chunks, ...counts };
  }
}

interface IngestedContent {
  digest: Uint8Array;
  size: bigint;
  chunks: ChunkList;
  stored: number;
  reused: number;
}

function assertNotCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new VitrineError('unavailable', 'upload was cancelled before it ended');
}

/**
 * The manifest of an upload: content fields only, with the residency the center decided;
 * its chunk list stays in the upload's ChunkList, which `encodeManifest` is given beside it.
 */
function manifestOf(
  meta: PushArtifactMetadata,
  residency: UploadResidency,
  content: IngestedContent,
): Manifest {
  return create(ManifestSchema, {
    kind: meta.kind,
    product: meta.product,
    version: meta.version,
    contentDigest: content.digest,
    size: content.size,
    residency: residency.residency,
    supersedes: meta.supersedes,
    residencyWidened: residency.widened,
  });
}

/** The artifact id: lowercase hex SHA-256 over the manifest domain and manifest bytes. */
export function artifactId(manifestBytes: Uint8Array): string {
  return toHex(sha256(new TextEncoder().encode(MANIFEST_DOMAIN), manifestBytes));
}
