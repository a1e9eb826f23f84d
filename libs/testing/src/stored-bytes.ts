import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where `needle` occurs in the files under `dir` (a chunk store, whatever its layout): each
 * file and offset. Tests use it to show bytes are absent from a store, or to alter them.
 */
export async function findStoredBytes(
  dir: string,
  needle: Uint8Array,
): Promise<{ file: string; offset: number }[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const found: { file: string; offset: number }[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const bytes = await readFile(file);
    for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + 1)) {
      found.push({ file, offset: at });
    }
  }
  return found;
}

/**
 * Flips one bit of the first copy of `chunk` found under `dir`, as a failing disk might;
 * resolves to a function that flips it back.
 */
export async function alterStoredBytes(
  dir: string,
  chunk: Uint8Array,
): Promise<() => Promise<void>> {
  const [where] = await findStoredBytes(dir, chunk);
  if (where === undefined) throw new Error(`chunk bytes not found under ${dir}`);
  const at = where.offset + Math.floor(chunk.length / 2);
  const flip = async () => {
    const bytes = await readFile(where.file);
    bytes[at] = (bytes[at] ?? 0) ^ 1;
    await chmod(where.file, 0o644);
    await writeFile(where.file, bytes);
  };
  await flip();
  return flip;
}
