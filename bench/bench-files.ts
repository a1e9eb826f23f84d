/**
 * Benchmark inputs written to disk a piece at a time, so a 4 GiB artifact never sits in
 * memory: incompressible pseudo-random content, and a new version of a file with scattered
 * edits (what a software update looks like to content-defined chunking and to rsync).
 */
import { createCipheriv, createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

const MIB = 1024 * 1024;

/**
 * A deterministic stream of random bytes: the AES-256-CTR keystream of a key derived from
 * `seed`. Fast (GB/s) and reproducible, so a run can regenerate the same file.
 */
export class Keystream {
  readonly #cipher;
  readonly #zeros = Buffer.alloc(MIB);

  constructor(seed: string) {
    const key = createHash('sha256').update(`vitrine bench ${seed}`).digest();
    this.#cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  }

  /** The next `length` bytes. */
  bytes(length: number): Buffer {
    const parts: Buffer[] = [];
    for (let left = length; left > 0; left -= MIB) {
      parts.push(this.#cipher.update(this.#zeros.subarray(0, Math.min(left, MIB))));
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  /** A uniformly distributed whole number below `bound` (at most 2^48). */
  below(bound: number): number {
    return Number(this.bytes(8).readBigUInt64BE() % BigInt(bound));
  }
}

/** Writes `bytes` of pseudo-random content (seeded) to `path`, a MiB at a time. */
export async function writeRandomFile(path: string, bytes: number, seed: string): Promise<void> {
  const stream = new Keystream(seed);
  async function* pieces() {
    for (let left = bytes; left > 0; left -= MIB) yield stream.bytes(Math.min(left, MIB));
  }
  await pipeline(pieces, createWriteStream(path));
}

/** How a new version differs from its base: `count` edits of `size` bytes at random places. */
export interface EditPattern {
  readonly count: number;
  readonly size: number;
  readonly seed: string;
}

/**
 * Writes a new version of `base` to `path`: `pattern.count` edits of `pattern.size` random
 * bytes at random, non-overlapping positions, alternately overwriting the base's bytes and
 * inserting before them. Returns the number of bytes the edits wrote.
 */
export async function writeEditedFile(
  base: string,
  path: string,
  pattern: EditPattern,
): Promise<number> {
  const random = new Keystream(pattern.seed);
  const size = (await stat(base)).size;
  const positions = Array.from({ length: pattern.count }, () => random.below(size)).sort(
    (a, b) => a - b,
  );
  const source = await open(base, 'r');
  const out = createWriteStream(path);
  const write = (data: Buffer) =>
    new Promise<void>((resolve, reject) =>
      out.write(data, (err) => (err ? reject(err) : resolve())),
    );
  try {
    let cursor = 0;
    for (const [i, position] of positions.entries()) {
      const at = Math.max(position, cursor);
      await copyRange(source, cursor, at, write);
      await write(random.bytes(pattern.size));
      const overwrite = i % 2 === 0;
      cursor = overwrite ? Math.min(at + pattern.size, size) : at;
    }
    await copyRange(source, cursor, size, write);
  } finally {
    await source.close();
    await new Promise<void>((resolve) => out.end(resolve));
  }
  return pattern.count * pattern.size;
}

/** Copies bytes [from, to) of an open file to `write`, a MiB at a time. */
async function copyRange(
  source: Awaited<ReturnType<typeof open>>,
  from: number,
  to: number,
  write: (data: Buffer) => Promise<void>,
): Promise<void> {
  for (let at = from; at < to; ) {
    const buffer = Buffer.allocUnsafe(Math.min(MIB, to - at));
    const { bytesRead } = await source.read(buffer, 0, buffer.length, at);
    if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${at}`);
    await write(buffer.subarray(0, bytesRead));
    at += bytesRead;
  }
}
