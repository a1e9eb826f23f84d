import { VitrineError } from '@vitrine/errors';
import type { ArtifactKind, ChunkRef } from '@vitrine/proto/artifact';
import { artifactKinds } from '@vitrine/proto/enum-words';
import type { ArtifactPublished } from '@vitrine/proto/event';
import type { Kysely } from 'kysely';
import { chunkRefsOf, type ManifestHead, readManifestHead } from '../manifest-bytes.js';
import {
  insertArtifact,
  insertArtifactChunks,
  refreshArtifactHoldings,
} from '../queries/artifacts.js';
import type { RegistryDatabase } from '../schema.js';
import type { EventStamp } from './event-stamp.js';

/** Records a published artifact: its row, its chunk list, and what this center holds of it. */
export async function applyArtifactPublished(
  tx: Kysely<RegistryDatabase>,
  at: EventStamp,
  body: ArtifactPublished,
): Promise<void> {
  const { manifest, chunkCount } = decodeManifest(at, body.manifest);
  const inserted = await insertArtifact(tx, {
    id: body.artifactId,
    kind: kindWord(manifest.kind),
    product: manifest.product,
    version: manifest.version,
    size: manifest.size,
    content_digest: manifest.contentDigest,
    chunk_count: chunkCount,
    residency: manifest.residency,
    supersedes: manifest.supersedes,
    residency_widened: manifest.residencyWidened,
    origin: at.origin,
    published_hlc: at.hlc,
    manifest: body.manifest,
    manifest_signature: body.manifestSignature,
    state: 'replicating',
    bytes_held: 0n,
  });
  if (!inserted) return;
  // The chunk list is read from the manifest's bytes as it is inserted, a batch at a time.
  await insertArtifactChunks(tx, body.artifactId, chunkRefsIn(at, body.manifest));
  await refreshArtifactHoldings(tx, body.artifactId, at.local);
}

/**
 * The manifest an ArtifactPublished event carries, but for its chunk list (see
 * `chunkRefsIn`); `data_loss` when it does not decode.
 */
function decodeManifest(at: EventStamp, bytes: Uint8Array): ManifestHead {
  if (bytes.length === 0) {
    throw new VitrineError('data_loss', `ArtifactPublished ${at.origin}/${at.seq} has no manifest`);
  }
  try {
    return readManifestHead(bytes);
  } catch (cause) {
    throw undecodable(at, cause);
  }
}

/** The chunk references of a manifest, in order; `data_loss` at one that does not decode. */
function* chunkRefsIn(at: EventStamp, bytes: Uint8Array): Generator<ChunkRef> {
  try {
    yield* chunkRefsOf(bytes);
  } catch (cause) {
    throw undecodable(at, cause);
  }
}

function undecodable(at: EventStamp, cause: unknown): VitrineError {
  return new VitrineError(
    'data_loss',
    `ArtifactPublished ${at.origin}/${at.seq} carries a manifest that does not decode`,
    { cause },
  );
}

/** The storage word of an artifact kind (`source`, `update`, `rules`). */
function kindWord(kind: ArtifactKind): string {
  const word = artifactKinds.word(kind);
  if (!word) throw new Error(`artifact kind ${kind} has no name`);
  return word;
}
