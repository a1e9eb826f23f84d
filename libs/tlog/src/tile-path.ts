import { LogError } from './log-error.js';

/** Tiles are 2^8 hashes or entries wide (c2sp.org/tlog-tiles). */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;

/** A tile: a level of hash tiles (or entry bundles, `level: 'entries'`), an index, a width. */
export interface Tile {
  readonly level: number | 'entries';
  readonly index: number;
  /** 1–256; below 256 the tile is partial (`.p/<W>`). */
  readonly width: number;
}

/**
 * The tile's path under the log's prefix: `tile/<L>/<N>[.p/<W>]` or
 * `tile/entries/<N>[.p/<W>]`, N written as three-digit groups, all but the last with an
 * `x` (`x001/x234/067`) (c2sp.org/tlog-tiles §Merkle Tree).
 */
export function tilePath(tile: Tile): string {
  const partial = tile.width < TILE_WIDTH ? `.p/${tile.width}` : '';
  return `tile/${tile.level}/${encodeIndex(tile.index)}${partial}`;
}

/** Parses a tile path (without the log's prefix); throws on anything not canonical. */
export function parseTilePath(path: string): Tile {
  const match = /^tile\/(entries|[0-9]+)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([0-9]+))?$/.exec(path);
  if (match === null) throw new LogError('malformed', 'not a tile path', 'invalid_argument');
  const [, levelText, indexText, widthText] = match as unknown as [string, string, string, string?];
  const level = levelText === 'entries' ? 'entries' : Number(levelText);
  const width = widthText === undefined ? TILE_WIDTH : Number(widthText);
  const index = Number(indexText.replaceAll('x', '').replaceAll('/', ''));
  const tile: Tile = { level, index, width };
  if (
    (typeof level === 'number' && level > 63) ||
    !Number.isSafeInteger(index) ||
    width < 1 ||
    width >= TILE_WIDTH + (widthText === undefined ? 1 : 0) ||
    tilePath(tile) !== path
  ) {
    throw new LogError('malformed', 'not a canonical tile path', 'invalid_argument');
  }
  return tile;
}

function encodeIndex(index: number): string {
  const digits = String(index);
  const padded = digits.padStart(Math.ceil(digits.length / 3) * 3, '0');
  const groups = padded.match(/.{3}/g) as string[];
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/**
 * The stored subtree hashes a hash tile holds: tile `n` of level `l` is the hashes of the
 * subtrees of 256^l leaves numbered n·256 … n·256 + width − 1, tree level 8·l.
 */
export function tileNodes(tile: Tile): { level: number; index: number }[] {
  if (tile.level === 'entries') throw new LogError('malformed', 'an entry bundle holds no hashes');
  const level = tile.level * TILE_HEIGHT;
  return Array.from({ length: tile.width }, (_, i) => ({
    level,
    index: tile.index * TILE_WIDTH + i,
  }));
}

/** The widest tile of `level` a tree of `size` leaves has at `index`; 0 when it has none. */
export function tileWidthAt(level: number, index: number, size: number): number {
  const span = TILE_WIDTH ** level;
  const hashes = Math.floor(size / span);
  return Math.max(0, Math.min(TILE_WIDTH, hashes - index * TILE_WIDTH));
}

/** An entry bundle: each entry behind its big-endian uint16 length (c2sp.org/tlog-tiles). */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  const size = entries.reduce((n, e) => n + 2 + e.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const entry of entries) {
    if (entry.length > 0xffff) throw new LogError('malformed', 'a log entry exceeds 65,535 bytes');
    view.setUint16(at, entry.length);
    out.set(entry, at + 2);
    at += 2 + entry.length;
  }
  return out;
}

/** The entries of a bundle; throws when a length runs past the end. */
export function decodeEntryBundle(bundle: Uint8Array): Uint8Array[] {
  const view = new DataView(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  const entries: Uint8Array[] = [];
  let at = 0;
  while (at < bundle.length) {
    if (at + 2 > bundle.length) throw new LogError('malformed', 'entry bundle is truncated');
    const length = view.getUint16(at);
    if (at + 2 + length > bundle.length)
      throw new LogError('malformed', 'entry bundle is truncated');
    entries.push(bundle.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return entries;
}
