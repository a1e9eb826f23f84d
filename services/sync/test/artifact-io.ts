import { createHash, randomBytes } from 'node:crypto';
import { ArtifactKind } from '@vitrine/proto/artifact';
import type { TestCenter } from './federation-harness.js';

/** Incompressible bytes that are the same on every run for one `seed` (SHA-256 in counter mode). */
export function seededContent(seed: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let at = 0, block = 0; at < size; at += 32, block++) {
    const digest = createHash('sha256').update(`${seed}/${block}`).digest();
    out.set(digest.subarray(0, Math.min(32, size - at)), at);
  }
  return out;
}

/** Incompressible random bytes, so FastCDC cuts them into distinct chunks. */
export function randomContent(size: number): Uint8Array {
  return new Uint8Array(randomBytes(size));
}

/** A PushArtifact request stream: metadata, then `content` in 1 MiB messages. */
export async function* upload(
  version: string,
  residency: string[],
  content = randomContent(100_000),
  more: { supersedes?: string } = {},
) {
  yield {
    part: {
      case: 'metadata' as const,
      value: { kind: ArtifactKind.SOURCE, product: 'agent', version, residency, ...more },
    },
  };
  for (let at = 0; at < content.length; at += 1 << 20) {
    yield { part: { case: 'data' as const, value: content.subarray(at, at + (1 << 20)) } };
  }
}

/** The whole content of an artifact as a center serves it (small test artifacts only). */
export async function pull(client: TestCenter['client'], id: string): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const res of client.pullArtifact({ id })) {
    if (res.part.case === 'data') parts.push(res.part.value);
  }
  return Buffer.concat(parts);
}
