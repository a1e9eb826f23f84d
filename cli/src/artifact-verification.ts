import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { fromBinary } from '@bufbuild/protobuf';
import { Chunker } from '@vitrine/chunks';
import { bytesEqual, sha256, toHex, verifyDetached } from '@vitrine/crypto';
import { type Manifest, ManifestSchema } from '@vitrine/proto/artifact';
import { MANIFEST_DOMAIN } from '@vitrine/registry';
import { type NoteKey, SignatureType } from '@vitrine/tlog';
import type { SignedManifestFile } from './artifact-manifest.js';

/** One step of checking a copy of an artifact, as `vitrine verify artifact` reports it. */
export interface ArtifactStep {
  readonly step: 'manifest' | 'manifest signature' | 'size' | 'content digest' | 'chunks';
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * Checks a file against an artifact's signed manifest, offline, as a checklist that stops at
 * the first failure: the manifest names the id (SHA-256 of the manifest domain and bytes);
 * a trusted center key signed it; then, reading the file once, its size, its whole-content
 * SHA-256, and every content-defined chunk (FastCDC, as centers cut them) against the
 * manifest's chunk list.
 */
export async function verifyArtifact(
  path: string,
  signed: SignedManifestFile,
  keys: readonly NoteKey[],
): Promise<{ steps: ArtifactStep[]; manifest?: Manifest }> {
  const steps: ArtifactStep[] = [];
  const fail = (step: ArtifactStep['step'], detail: string) => {
    steps.push({ step, ok: false, detail });
    return { steps };
  };
  const pass = (step: ArtifactStep['step'], detail: string) =>
    steps.push({ step, ok: true, detail });

  const bytes = Buffer.from(signed.manifest ?? '', 'base64');
  const id = toHex(sha256(Buffer.from(MANIFEST_DOMAIN), bytes));
  if (id !== signed.id) return fail('manifest', `the manifest names ${id}, not ${signed.id}`);
  let manifest: Manifest;
  try {
    manifest = fromBinary(ManifestSchema, bytes);
  } catch (err) {
    return fail('manifest', `the manifest does not decode: ${(err as Error).message}`);
  }
  pass('manifest', `artifact ${id}: ${manifest.product} ${manifest.version}`);

  const signature = Buffer.from(signed.signature ?? '', 'base64');
  const signer = await firstSigner(keys, bytes, signature);
  if (signer === undefined) return fail('manifest signature', 'no trusted key signed it');
  pass('manifest signature', `signed by ${signer.name}`);

  const read = await readAgainst(path, manifest);
  if (read.size !== manifest.size) {
    return fail('size', `${read.size} bytes, the manifest says ${manifest.size}`);
  }
  pass('size', `${read.size} bytes`);
  if (!bytesEqual(read.digest, manifest.contentDigest)) {
    return fail(
      'content digest',
      `SHA-256 ${toHex(read.digest)}, the manifest says ${toHex(manifest.contentDigest)}`,
    );
  }
  pass('content digest', `SHA-256 ${toHex(read.digest)}`);
  if (read.badChunk !== undefined) return fail('chunks', read.badChunk);
  pass('chunks', `${manifest.chunks.length} chunks as listed`);
  return { steps, manifest };
}

async function firstSigner(keys: readonly NoteKey[], manifest: Uint8Array, signature: Uint8Array) {
  for (const key of keys) {
    if (key.type !== SignatureType.ed25519) continue;
    try {
      await verifyDetached(key.publicKey, MANIFEST_DOMAIN, manifest, signature);
      return key;
    } catch {
      // Not this key: try the next.
    }
  }
  return undefined;
}

/** Reads the file once: its size, SHA-256, and the first chunk that differs from the list. */
async function readAgainst(path: string, manifest: Manifest) {
  const whole = createHash('sha256');
  const chunker = new Chunker();
  let size = 0n;
  let at = 0;
  let badChunk: string | undefined;
  const check = (chunk: Uint8Array) => {
    const listed = manifest.chunks[at];
    if (badChunk === undefined) {
      if (listed === undefined) badChunk = `chunk ${at} is not in the manifest`;
      else if (listed.size !== chunk.length || !bytesEqual(listed.digest, sha256(chunk))) {
        badChunk = `chunk ${at} differs from the manifest's`;
      }
    }
    at++;
  };
  for await (const piece of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const data = piece as Buffer;
    size += BigInt(data.length);
    whole.update(data);
    for (const chunk of chunker.push(data)) check(chunk);
  }
  for (const chunk of chunker.finish()) check(chunk);
  if (badChunk === undefined && at !== manifest.chunks.length) {
    badChunk = `${at} chunks, the manifest lists ${manifest.chunks.length}`;
  }
  return { size, digest: new Uint8Array(whole.digest()), badChunk };
}
