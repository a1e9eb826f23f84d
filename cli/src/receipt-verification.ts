import { fromBinary } from '@bufbuild/protobuf';
import { toHex, verifyDetached } from '@vitrine/crypto';
import { EVENT_SIGNATURE_DOMAIN } from '@vitrine/events';
import { EventHeaderSchema, SignedEventSchema } from '@vitrine/proto/event';
import {
  hashLeaf,
  type NoteKey,
  openNote,
  parseCheckpoint,
  parseTlogProof,
  verifyInclusion,
} from '@vitrine/tlog';

/** One step of checking a receipt, as `vitrine verify receipt` reports it. */
export interface ReceiptStep {
  readonly step: 'format' | 'checkpoint' | 'leaf' | 'event signature' | 'inclusion';
  readonly ok: boolean;
  readonly detail: string;
}

/** The event a receipt proves, once every step holds. */
export interface ProvenEvent {
  readonly origin: string;
  readonly seq: number;
  readonly bodyDigest: string;
  readonly checkpoint: { readonly origin: string; readonly size: number };
}

/**
 * Checks a receipt (a C2SP tlog-proof whose extra data is the leaf: the event's signed
 * header and signature) offline against verifier keys, as a checklist that stops at the
 * first failure: the format; the checkpoint's signature by a trusted key; the leaf is
 * that log's event at that index; the origin's signature over the event header (the same
 * key signs checkpoints and events); the inclusion proof from the leaf to the root.
 */
export async function verifyReceipt(
  text: string,
  keys: readonly NoteKey[],
): Promise<{ steps: ReceiptStep[]; event?: ProvenEvent }> {
  const steps: ReceiptStep[] = [];
  const check = async <T>(step: ReceiptStep['step'], run: () => Promise<[T, string]>) => {
    try {
      const [value, detail] = await run();
      steps.push({ step, ok: true, detail });
      return value;
    } catch (err) {
      steps.push({ step, ok: false, detail: (err as Error).message });
      return undefined;
    }
  };
  const proof = await check('format', async () => {
    const p = parseTlogProof(text);
    return [p, `tlog-proof of entry ${p.index}`];
  });
  if (!proof) return { steps };
  const opened = await check('checkpoint', async () => {
    const note = await openNote(proof.checkpoint, keys);
    const cp = parseCheckpoint(note.text);
    const key = note.verified[0]?.key as NoteKey;
    if (cp.origin !== key.name) throw new Error(`checkpoint of ${cp.origin} signed by ${key.name}`);
    return [{ cp, key }, `${cp.origin} at size ${cp.size}, signed by ${key.name}`];
  });
  if (!opened) return { steps };
  const leaf = await check('leaf', async () => {
    if (proof.extra === undefined) throw new Error('the receipt carries no leaf (extra)');
    const signed = fromBinary(SignedEventSchema, proof.extra);
    const header = fromBinary(EventHeaderSchema, signed.header);
    const center = opened.cp.origin.slice(opened.cp.origin.lastIndexOf('/') + 1);
    if (signed.body.length > 0) throw new Error('a leaf holds no body');
    if (header.origin !== center) throw new Error(`event of ${header.origin} in ${center}'s log`);
    if (header.seq !== BigInt(proof.index) + 1n) {
      throw new Error(`event ${header.seq} at leaf ${proof.index} (leaf i is sequence i + 1)`);
    }
    return [{ signed, header }, `event ${header.origin}/${header.seq}`];
  });
  if (!leaf) return { steps };
  const signedOk = await check('event signature', async () => {
    const { signed } = leaf;
    await verifyDetached(
      opened.key.publicKey,
      EVENT_SIGNATURE_DOMAIN,
      signed.header,
      signed.signature,
    );
    return [true, `signed by ${opened.key.name}`];
  });
  if (!signedOk) return { steps };
  const included = await check('inclusion', async () => {
    const { cp } = opened;
    verifyInclusion(
      hashLeaf(proof.extra as Uint8Array),
      proof.index,
      cp.size,
      proof.proof,
      cp.root,
    );
    return [true, `leaf ${proof.index} is in the tree of ${cp.size}`];
  });
  if (!included) return { steps };
  return {
    steps,
    event: {
      origin: leaf.header.origin,
      seq: Number(leaf.header.seq),
      bodyDigest: toHex(leaf.header.bodyDigest),
      checkpoint: { origin: opened.cp.origin, size: opened.cp.size },
    },
  };
}
