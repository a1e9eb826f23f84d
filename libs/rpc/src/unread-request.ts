import * as http2 from 'node:http2';

/** The most of an unread request that is read and dropped before the client is cut off. */
export const DISCARD_MAX_BYTES = 64 * 1024 * 1024;

/**
 * How long the client may send nothing before the response goes out anyway: a client
 * with a request left to send sends it at once, while one that keeps its request stream
 * open (a bidirectional stream the server ended) may be waiting for this response.
 */
export const DISCARD_IDLE_MS = 250;

type Call = (...args: unknown[]) => unknown;

/**
 * Lets an HTTP/2 client finish sending a request its handler did not read to the end (a
 * message refused for its size, a request stream refused part way) before the response
 * reaches it.
 *
 * A Node client queues a whole message in its session memory, and while that holds more
 * than its limit it resets every stream whose response headers arrive, with
 * ENHANCE_YOUR_CALM. When the server answered a refused 20 MiB message at once and read
 * no more, the rest of it stayed queued: the client lost that status and every later
 * response on the connection, although the server had applied those later calls.
 *
 * So the response head waits for the first message or the end; when the response ends
 * before the request has, the rest of the request is read and dropped and the response
 * goes out once the client has sent it all, or has paused for DISCARD_IDLE_MS (what it
 * sends after is dropped too). Past DISCARD_MAX_BYTES the response goes out and the
 * stream is reset with CANCEL: RFC 9113 §8.1 asks for NO_ERROR, but a Node client with
 * request bytes left to write never closes a stream reset with NO_ERROR.
 */
export function finishRequestFirst(res: http2.Http2ServerResponse): void {
  const { stream } = res;
  const original = (name: 'writeHead' | 'write' | 'addTrailers' | 'end'): Call =>
    (res[name] as Call).bind(res);
  const [writeHead, write, addTrailers, end] = [
    original('writeHead'),
    original('write'),
    original('addTrailers'),
    original('end'),
  ];
  let head: unknown[] | undefined;
  let held: Promise<void> | undefined;
  // Set while a call is passed on: what it calls on the response itself goes straight through.
  let passing = false;
  const pass = (call: Call, args: unknown[]): unknown => {
    passing = true;
    try {
      if (head !== undefined && !res.headersSent) writeHead(...head);
      head = undefined;
      return call(...args);
    } finally {
      passing = false;
    }
  };
  const wrap = (call: Call, ending: boolean): Call => {
    return (...args) => {
      if (passing) return call(...args);
      if (ending && held === undefined && !stream.readableEnded && !stream.destroyed) {
        held = drain(stream);
      }
      if (held === undefined) return pass(call, args);
      // A client gone meanwhile may make a held call throw: its stream goes with it.
      held = held.then(() => void pass(call, args)).catch(() => void stream.destroy());
      return call === write ? true : res;
    };
  };
  Object.assign(res, {
    writeHead: (...args: unknown[]) => {
      if (passing) return writeHead(...args);
      head = args;
      return res;
    },
    write: wrap(write, false),
    addTrailers: wrap(addTrailers, true),
    end: wrap(end, true),
  });
}

/**
 * Reads and drops the rest of a stream's request. Resolves once the client has sent it
 * all or gone, or has paused for DISCARD_IDLE_MS (what it sends later is still dropped);
 * past DISCARD_MAX_BYTES it resolves and resets the stream with CANCEL after the response.
 */
function drain(stream: http2.ServerHttp2Stream): Promise<void> {
  // Nothing reads through the compatibility request any more, and once destroyed it
  // pauses the stream at each chunk it is handed, so its listener is taken off.
  for (const listener of stream.listeners('data')) {
    stream.off('data', listener as (...args: unknown[]) => void);
  }
  return new Promise((release) => {
    let dropped = 0;
    const idle = setTimeout(release, DISCARD_IDLE_MS);
    const stop = () => {
      clearTimeout(idle);
      stream.off('data', drop).off('end', stop).off('close', stop);
      release();
    };
    const drop = (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped <= DISCARD_MAX_BYTES) return void idle.refresh();
      stop();
      stream.pause();
      const cancel = () => stream.close(http2.constants.NGHTTP2_CANCEL);
      if (stream.writableFinished) cancel();
      else stream.once('finish', cancel);
    };
    stream.on('data', drop).once('end', stop).once('close', stop);
    stream.resume();
  });
}
