/** Joins consecutive pieces into buffers of at least `size` bytes (the last may be smaller). */
export async function* coalesce(
  pieces: AsyncIterable<Uint8Array>,
  size: number,
): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let length = 0;
  for await (const piece of pieces) {
    pending.push(piece);
    length += piece.length;
    if (length >= size) {
      yield new Uint8Array(Buffer.concat(pending, length));
      pending = [];
      length = 0;
    }
  }
  if (length > 0) yield new Uint8Array(Buffer.concat(pending, length));
}

/** The UTF-8 bytes of text pieces as they come, in pieces of at most `max` bytes. */
export async function* utf8(
  texts: AsyncIterable<string> | Iterable<string>,
  max: number,
): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  for await (const text of texts) {
    const bytes = encoder.encode(text);
    for (let at = 0; at < bytes.length; at += max) yield bytes.subarray(at, at + max);
  }
}
