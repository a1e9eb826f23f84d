import type { RequestHandler } from '@vitrine/rpc';
import {
  encodeEntryBundle,
  LogError,
  parseTilePath,
  type Tile,
  tileNodes,
  tileWidthAt,
} from '@vitrine/tlog';
import type { CosignatureStore as Cosignatures } from '@vitrine/tlog-store';
import type { Kysely } from 'kysely';
import type { RegistryDatabase } from '../schema.js';
import { logLeaf } from './log-leaf.js';
import { logHashReader } from './log-tree-store.js';

/** Where a center serves its log on the registry's port. */
export const LOG_PREFIX = '/log/';

const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Serves the center's own log as C2SP tlog-tiles over plain HTTP GET: `checkpoint` (the
 * latest signed checkpoint, with the cosignatures gathered for it), hash tiles `tile/<L>/<N>[.p/<W>]` and entry bundles
 * `tile/entries/<N>[.p/<W>]` (each entry a leaf: signed header and signature, never a
 * body). Open to anyone, like health: everything in it is signed and public to every center.
 */
export function logResources(
  db: Kysely<RegistryDatabase>,
  center: string,
  checkpoints: Cosignatures,
  onError: (err: unknown) => void,
): RequestHandler {
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0]?.slice(LOG_PREFIX.length) ?? '';
    const send = (status: number, type: string, body: string | Uint8Array, cache?: string) => {
      res.statusCode = status;
      res.setHeader('content-type', type);
      res.setHeader('cache-control', cache ?? 'no-store');
      if (req.method === 'HEAD') res.end();
      else res.end(body);
    };
    const text = (status: number, message: string) =>
      send(status, 'text/plain; charset=utf-8', `${message}\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return text(405, 'the log is read with GET');
    }
    serve(path).catch((err) => {
      if (err instanceof LogError) return text(404, err.message);
      onError(err);
      return text(500, 'the log could not be read');
    });

    async function serve(path: string): Promise<void> {
      if (path === 'checkpoint') {
        const latest = await checkpoints.latest();
        if (latest === undefined) return text(404, 'no checkpoint signed yet');
        return send(200, 'text/plain; charset=utf-8', latest.note, 'max-age=1');
      }
      const tile = parseTilePath(path);
      const size = await storedSize(db, center);
      const level = tile.level === 'entries' ? 0 : tile.level;
      if (tile.width > tileWidthAt(level, tile.index, size)) {
        return text(404, `tile ${path} is beyond the log's ${size} entries`);
      }
      const body = tile.level === 'entries' ? await entryBundle(tile) : await hashTile(tile);
      return send(200, 'application/octet-stream', body, IMMUTABLE);
    }
  };

  async function hashTile(tile: Tile): Promise<Uint8Array> {
    const hashes = await logHashReader(db, center).readHashes(tileNodes(tile));
    return Buffer.concat(hashes);
  }

  async function entryBundle(tile: Tile): Promise<Uint8Array> {
    const first = BigInt(tile.index) * 256n + 1n;
    const rows = await db
      .selectFrom('events')
      .select(['header', 'signature'])
      .where('origin', '=', center)
      .where('seq', '>=', first)
      .where('seq', '<', first + BigInt(tile.width))
      .orderBy('seq')
      .execute();
    return encodeEntryBundle(rows.map((r) => logLeaf(r.header, r.signature)));
  }
}

/** The number of leaves stored in `origin`'s log: its contiguous events. */
async function storedSize(db: Kysely<RegistryDatabase>, origin: string): Promise<number> {
  const head = await db
    .selectFrom('log_heads')
    .select('seq')
    .where('origin', '=', origin)
    .executeTakeFirst();
  return Number(head?.seq ?? 0n);
}
