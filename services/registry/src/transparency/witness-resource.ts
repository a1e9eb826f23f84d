import type { RequestHandler } from '@vitrine/rpc';
import {
  ADD_CHECKPOINT_PATH,
  MAX_ADD_CHECKPOINT_BYTES,
  TREE_SIZE_CONTENT_TYPE,
} from '@vitrine/tlog';
import type { LogWitness } from './log-witness.js';

export { ADD_CHECKPOINT_PATH };

/** Bytes read past the limit before the connection is dropped rather than drained. */
const DRAIN_LIMIT = 1024 * 1024;

/**
 * Serves `POST /log/add-checkpoint` on the registry's port: a body of at most
 * MAX_ADD_CHECKPOINT_BYTES (413 beyond), answered with the witness's status: 200 and the
 * cosignature line (`text/plain; charset=utf-8`), 409 and its size (`text/x.tlog.size`),
 * 400, 403, 404 or 422 with a message. Other methods are 405. Open to anyone: nothing but
 * the log's signature authenticates a checkpoint.
 */
export function witnessResource(
  witness: LogWitness,
  onError: (err: unknown) => void,
): RequestHandler {
  return (req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.statusCode = status;
      res.setHeader('content-type', type);
      res.setHeader('cache-control', 'no-store');
      res.end(body);
    };
    const text = (status: number, message: string) =>
      send(status, 'text/plain; charset=utf-8', `${message}\n`);
    if ((req.url ?? '').split('?')[0] !== ADD_CHECKPOINT_PATH) {
      return text(404, 'no such witness resource');
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return text(405, 'add-checkpoint takes POST');
    }
    const tooLarge = `add-checkpoint bodies are at most ${MAX_ADD_CHECKPOINT_BYTES} bytes`;
    if (Number(req.headers['content-length'] ?? 0) > MAX_ADD_CHECKPOINT_BYTES) {
      return text(413, tooLarge);
    }
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received <= MAX_ADD_CHECKPOINT_BYTES) chunks.push(chunk);
      else if (received > MAX_ADD_CHECKPOINT_BYTES + DRAIN_LIMIT) req.destroy();
    });
    req.on('error', () => {});
    req.on('end', () => {
      if (received > MAX_ADD_CHECKPOINT_BYTES) return text(413, tooLarge);
      witness
        .addCheckpoint(Buffer.concat(chunks))
        .then((answer) => {
          if (answer.status === 200) {
            return send(200, 'text/plain; charset=utf-8', answer.cosignature);
          }
          if (answer.status === 409) return send(409, TREE_SIZE_CONTENT_TYPE, `${answer.size}\n`);
          return text(answer.status, answer.message);
        })
        .catch((err: unknown) => {
          onError(err);
          text(500, 'the witness could not take the checkpoint');
        });
    });
  };
}
