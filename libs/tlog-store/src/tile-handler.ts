import type { RequestHandler } from '@vitrine/rpc';
import { LogError, parseTilePath, tileWidthAt } from '@vitrine/tlog';
import type { SignedCheckpoint } from './checkpoint-publisher.js';
import type { LogStore } from './log-store.js';

/** Where a service serves its log on its port, by convention. */
export const LOG_PREFIX = '/log/';

/** Tiles never change once they exist: cache them for good. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

export interface TileHandlerOptions {
  readonly store: LogStore;
  /** The latest checkpoint as served (with the cosignatures gathered, where there are). */
  readonly checkpoints: { latest(): Promise<SignedCheckpoint | undefined> };
  /** The path prefix the handler is mounted at; `/log/` by default. */
  readonly prefix?: string;
  /** Told of a failure that is not the caller's (a database error): answered 500. */
  readonly onError: (err: unknown) => void;
}

/**
 * Serves a log as C2SP tlog-tiles over plain HTTP GET (and HEAD): `checkpoint` (the latest
 * signed checkpoint, `max-age=1`), hash tiles `tile/<L>/<N>[.p/<W>]` and entry bundles
 * `tile/entries/<N>[.p/<W>]`, both immutable. A tile beyond the latest checkpoint or a
 * path not in canonical form is 404, another method 405. Tiles are cut at the latest
 * signed size, so a reader never sees leaves no checkpoint commits to yet.
 */
export function tileHandler(options: TileHandlerOptions): RequestHandler {
  const { store, checkpoints, onError } = options;
  const prefix = options.prefix ?? LOG_PREFIX;
  return (req, res) => {
    const url = (req.url ?? '').split('?')[0] ?? '';
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
    if (!url.startsWith(prefix)) return text(404, 'not a path of the log');
    serve(url.slice(prefix.length)).catch((err) => {
      if (err instanceof LogError) return text(404, err.message);
      onError(err);
      return text(500, 'the log could not be read');
    });

    async function serve(path: string): Promise<void> {
      const latest = await checkpoints.latest();
      if (path === 'checkpoint') {
        if (latest === undefined) return text(404, 'no checkpoint signed yet');
        return send(200, 'text/plain; charset=utf-8', latest.note, 'max-age=1');
      }
      const tile = parseTilePath(path);
      const size = latest?.size ?? 0;
      const level = tile.level === 'entries' ? 0 : tile.level;
      if (tile.width > tileWidthAt(level, tile.index, size)) {
        return text(404, `tile ${path} is beyond the log's ${size} signed entries`);
      }
      return send(200, 'application/octet-stream', await store.tile(tile), IMMUTABLE);
    }
  };
}
