/**
 * A pack store's in-memory index (ChunkIndex) beside the Map of hex strings to location
 * objects it replaced, both filled with the same chunks the way a store opening its packs
 * fills them (each digest read as bytes, its hex string made then): memory held per chunk,
 * and the time to index them all and to look each up (median of the runs).
 *
 *   node --expose-gc --import tsx bench/chunk-index.ts [--chunks N=1000000] [--runs N=5]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { formatTable } from '../cli/src/text-table.js';
import { ChunkIndex, type Location } from '../libs/chunks/src/chunk-index.js';
import { median } from './measure.js';

const { values } = parseArgs({
  options: {
    chunks: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '5' },
  },
});
const count = Number(values.chunks);
const runs = Number(values.runs);
const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) {
  console.error('run with node --expose-gc (see the usage line at the top of this file)');
  process.exit(2);
}

/** The two indexes under test, behind the calls the pack store makes. */
interface Index {
  set(hex: string, location: Location): unknown;
  get(hex: string): Location | undefined;
}
const kinds: Record<string, () => Index> = {
  'Map of hex strings (baseline)': () => new Map<string, Location>(),
  ChunkIndex: () => new ChunkIndex(),
};

// Chunks of 64 KiB laid end to end in packs of 4 GiB, as an artifact's are.
const digests = randomBytes(32 * count);
const hexOf = (i: number) => digests.toString('hex', i * 32, i * 32 + 32);
const hexes = Array.from({ length: count }, (_, i) => hexOf(i));
const location = (i: number): Location => ({
  pack: Math.floor(i / 65_536),
  offset: (i % 65_536) * 65_616,
  length: 65_536,
});

/** Collects garbage, giving V8 time to free the buffers of what it collected. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    collect?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const rows: string[][] = [];
for (const [name, make] of Object.entries(kinds)) {
  const bytes: number[] = [];
  const fill: number[] = [];
  const lookup: number[] = [];
  for (let run = 0; run < runs; run++) {
    await settle();
    const before = process.memoryUsage();
    let start = performance.now();
    const index = make();
    for (let i = 0; i < count; i++) index.set(hexOf(i), location(i));
    fill.push(performance.now() - start);
    await settle();
    const after = process.memoryUsage();
    bytes.push(after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers);
    start = performance.now();
    let found = 0;
    for (let i = 0; i < count; i++) if (index.get(hexes[i] as string)) found++;
    lookup.push(performance.now() - start);
    if (found !== count) throw new Error(`${name} lost ${count - found} chunks`);
  }
  rows.push([
    name,
    `${(median(bytes) / count).toFixed(0)} B`,
    `${(median(bytes) / 1024 / 1024).toFixed(1)} MiB`,
    `${((count / median(fill)) * 1000).toFixed(0)}/s`,
    `${((count / median(lookup)) * 1000).toFixed(0)}/s`,
  ]);
}
console.log(`chunk index, ${count.toLocaleString('en')} chunks (median of ${runs})`);
console.log(formatTable(['', 'per chunk', 'total', 'indexed', 'looked up'], rows).join('\n'));
