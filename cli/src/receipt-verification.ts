import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { bytesEqual, sha256, toHex, verifyDetached } from '@vitrine/crypto';
import { EVENT_SIGNATURE_DOMAIN } from '@vitrine/events';
import {
  type EventBody,
  EventBodySchema,
  type EventHeader,
  EventHeaderSchema,
  SignedEventSchema,
} from '@vitrine/proto/event';
import {
  type Checkpoint,
  hashLeaf,
  type NoteKey,
  openNote,
  parseCheckpoint,
  parseTlogProof,
  SignatureType,
  type TlogProof,
  verifyInclusion,
} from '@vitrine/tlog';
import {
  decisionLeafOf,
  isAccessLog,
  type ProvenDecision,
  provenDecision,
  verifyDecisionSignature,
} from './decision-receipt.js';
import { describeBody } from './event-checks.js';
import { witnessKeys } from './trusted-keys.js';

/** One step of checking a receipt, as `vitrine verify receipt` reports it. */
export interface ReceiptStep {
  readonly step:
    | 'format'
    | 'checkpoint'
    | 'witnesses'
    | 'leaf'
    | 'event signature'
    | 'decision signature'
    | 'body'
    | 'inclusion';
  readonly ok: boolean;
  readonly detail: string;
}

/** The event a receipt proves, once every step holds. */
export interface ProvenEvent {
  readonly origin: string;
  readonly seq: number;
  readonly bodyDigest: string;
  /** What the body says changed, when the receipt carries it (`findingCreated europe-3`). */
  readonly change?: string;
  readonly actor?: string;
  readonly checkpoint: {
    readonly origin: string;
    readonly size: number;
    /** The witnesses whose cosignatures verified (names), when a quorum was asked for. */
    readonly cosigners?: readonly string[];
  };
}

/** What a receipt must satisfy beyond the log's own signature. */
export interface ReceiptPolicy {
  /** How many distinct witnesses other than the origin must have cosigned the checkpoint. */
  readonly witnessQuorum?: number;
}

/**
 * Checks a receipt offline against verifier keys, as a checklist that stops at the first
 * failure. A receipt is a C2SP tlog-proof whose extra data is the event as signed — a
 * `SignedEvent`: header, signature, and the body where the receipt's holder may see it; the
 * log's leaf is that event without its body. Steps: the format; the checkpoint's signature
 * by a trusted key named as its origin; enough valid `cosignature/v1` lines by trusted
 * witnesses other than the origin (only with a quorum); the leaf is that log's event at that
 * index; the origin's signature over the header (the same key signs checkpoints and
 * events); the body, when carried, against the header's digest; the inclusion proof from
 * the leaf to the signed root. A receipt of an access log (`<federation>/access`) carries
 * a decision instead (a SignedAccessDecision): its leaf is checked to be the decision at
 * that index, then the access service's signature over it (the key that signs the
 * checkpoint), then the inclusion.
 */
export async function verifyReceipt(
  text: string,
  keys: readonly NoteKey[],
  policy: ReceiptPolicy = {},
): Promise<{
  steps: ReceiptStep[];
  event?: ProvenEvent;
  body?: EventBody;
  decision?: ProvenDecision;
}> {
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
  const witnesses = witnessKeys(keys);
  const opened = await check('checkpoint', async () => {
    const logKeys = keys.filter((k) => k.type === SignatureType.ed25519);
    const note = await openNote(proof.checkpoint, [...logKeys, ...witnesses]);
    const cp = parseCheckpoint(note.text);
    const signer = note.verified.find(
      (v) => v.key.type === SignatureType.ed25519 && v.key.name === cp.origin,
    );
    if (signer === undefined) throw new Error(`checkpoint of ${cp.origin} is not signed by it`);
    const cosigners = note.verified
      .filter(
        (v) => v.timestamp !== undefined && !bytesEqual(v.key.publicKey, signer.key.publicKey),
      )
      .map((v) => v.key.name);
    const detail = `${cp.origin} at size ${cp.size}, signed by ${signer.key.name}`;
    return [{ cp, key: signer.key, cosigners: [...new Set(cosigners)] }, detail];
  });
  if (!opened) return { steps };
  if (policy.witnessQuorum !== undefined) {
    const quorum = policy.witnessQuorum;
    const met = await check('witnesses', async () => {
      const { cosigners } = opened;
      if (cosigners.length < quorum) {
        throw new Error(
          `${cosigners.length} of the ${quorum} cosignatures asked for by witnesses other than ${opened.cp.origin}${cosigners.length > 0 ? ` (${cosigners.join(', ')})` : ''}`,
        );
      }
      return [true, `cosigned by ${cosigners.length} (${cosigners.join(', ') || 'none needed'})`];
    });
    if (!met) return { steps };
  }
  const inclusion = (leaf: Uint8Array) =>
    check('inclusion', async () => {
      const { cp } = opened;
      verifyInclusion(hashLeaf(leaf), proof.index, cp.size, proof.proof, cp.root);
      return [true, `leaf ${proof.index} is in the tree of ${cp.size}`];
    });
  if (isAccessLog(opened.cp.origin)) {
    const decision = await check('leaf', async () => decisionLeafOf(proof));
    if (!decision) return { steps };
    const signed = await check('decision signature', async () => {
      await verifyDecisionSignature(opened.key.publicKey, decision);
      return [true, `signed by ${opened.key.name}`];
    });
    if (!signed || !(await inclusion(decision.leaf))) return { steps };
    return { steps, decision: provenDecision(decision.parsed) };
  }
  const leaf = await check('leaf', () => leafOf(proof, opened.cp));
  if (!leaf) return { steps };
  const signedOk = await check('event signature', async () => {
    await verifyDetached(opened.key.publicKey, EVENT_SIGNATURE_DOMAIN, leaf.header, leaf.signature);
    return [true, `signed by ${opened.key.name}`];
  });
  if (!signedOk) return { steps };
  const body = await check('body', async (): Promise<[EventBody | null, string]> => {
    if (leaf.body.length === 0) {
      return [
        null,
        `not in the receipt: the header names it by SHA-256 ${toHex(leaf.parsed.bodyDigest)}`,
      ];
    }
    const digest = sha256(leaf.body);
    if (!bytesEqual(digest, leaf.parsed.bodyDigest)) {
      throw new Error(
        `the body's SHA-256 ${toHex(digest)} is not the header's ${toHex(leaf.parsed.bodyDigest)}`,
      );
    }
    const decoded = fromBinary(EventBodySchema, leaf.body);
    return [decoded, `${describeBody(decoded)} by ${decoded.actor}, as the header's digest says`];
  });
  if (body === undefined) return { steps };
  if (!(await inclusion(leaf.leaf))) return { steps };
  return {
    steps,
    event: {
      origin: leaf.parsed.origin,
      seq: Number(leaf.parsed.seq),
      bodyDigest: toHex(leaf.parsed.bodyDigest),
      ...(body ? { change: describeBody(body), actor: body.actor } : {}),
      checkpoint: {
        origin: opened.cp.origin,
        size: opened.cp.size,
        ...(policy.witnessQuorum !== undefined ? { cosigners: opened.cosigners } : {}),
      },
    },
    ...(body ? { body } : {}),
  };
}

/**
 * The event the receipt carries, and the log leaf it stands for: the extra data must be a
 * SignedEvent in its exact encoding (header, signature, then the body if any), naming this
 * log's origin and the sequence of the proof's index.
 */
async function leafOf(
  proof: TlogProof,
  cp: Checkpoint,
): Promise<
  [
    {
      header: Uint8Array;
      signature: Uint8Array;
      body: Uint8Array;
      parsed: EventHeader;
      leaf: Uint8Array;
    },
    string,
  ]
> {
  if (proof.extra === undefined) throw new Error('the receipt carries no event (extra)');
  const signed = fromBinary(SignedEventSchema, proof.extra);
  const { header, signature, body } = signed;
  const exact = toBinary(SignedEventSchema, create(SignedEventSchema, { header, signature, body }));
  if (!bytesEqual(exact, proof.extra)) {
    throw new Error('the extra data is not a SignedEvent in its exact encoding');
  }
  const parsed = fromBinary(EventHeaderSchema, header);
  const center = cp.origin.slice(cp.origin.lastIndexOf('/') + 1);
  if (parsed.origin !== center) throw new Error(`event of ${parsed.origin} in ${center}'s log`);
  if (parsed.seq !== BigInt(proof.index) + 1n) {
    throw new Error(`event ${parsed.seq} at leaf ${proof.index} (leaf i is sequence i + 1)`);
  }
  const leaf = toBinary(SignedEventSchema, create(SignedEventSchema, { header, signature }));
  return [{ header, signature, body, parsed, leaf }, `event ${parsed.origin}/${parsed.seq}`];
}
