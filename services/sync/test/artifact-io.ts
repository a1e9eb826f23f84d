import { randomBytes } from 'node:crypto';
import { ArtifactKind } from '@vitrine/proto/artifact';
import type { TestCenter } from './federation-harness.js';

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
