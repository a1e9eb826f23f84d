import { type DescMessage, fromBinary, type MessageShape } from '@bufbuild/protobuf';
import { VitrineError } from '@vitrine/errors';

/**
 * Decodes the plaintext of a frame that opened: `invalid_argument` when its bytes are not
 * a `schema` message. The frame's seal proves a member sealed exactly these bytes in this
 * session, so bytes that do not decode are the sender's malformed request, not damage on
 * the way (that fails the seal, as DATA_LOSS) nor a fault of this center.
 */
export function decodePlaintext<D extends DescMessage>(
  schema: D,
  plaintext: Uint8Array,
): MessageShape<D> {
  try {
    return fromBinary(schema, plaintext);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new VitrineError(
      'invalid_argument',
      `sealed frame does not hold a ${schema.name}: ${reason}`,
      { cause: err },
    );
  }
}
