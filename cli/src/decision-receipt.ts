import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { DECISION_DOMAIN } from '@vitrine/access';
import { bytesEqual, toHex, verifyDetached } from '@vitrine/crypto';
import {
  type AccessDecision,
  AccessDecisionSchema,
  DecisionKind,
  SignedAccessDecisionSchema,
} from '@vitrine/proto/access-decision';
import type { TlogProof } from '@vitrine/tlog';

/** What a verified access-log receipt proves: one decision, by its index and kind. */
export interface ProvenDecision {
  readonly index: number;
  readonly kind: string;
  readonly atMs: number;
  readonly requestId?: string;
  readonly credentialId?: string;
  readonly revocationId?: string;
  /** The partner reference (hex): SHA-256 of "vitrine/access-partner/v1\n" ‖ partner id. */
  readonly partnerRef?: string;
}

/** Whether a checkpoint origin is an access log's (`<federation>/access`). */
export function isAccessLog(origin: string): boolean {
  return origin.endsWith('/access');
}

/**
 * The decision an access-log receipt carries, and its leaf: the extra data must be a
 * SignedAccessDecision in its exact encoding whose decision names the proof's index.
 */
export function decisionLeafOf(
  proof: TlogProof,
): [
  { leaf: Uint8Array; decision: Uint8Array; signature: Uint8Array; parsed: AccessDecision },
  string,
] {
  if (proof.extra === undefined) throw new Error('the receipt carries no decision (extra)');
  const signed = fromBinary(SignedAccessDecisionSchema, proof.extra);
  const { decision, signature } = signed;
  const exact = toBinary(
    SignedAccessDecisionSchema,
    create(SignedAccessDecisionSchema, { decision, signature }),
  );
  if (!bytesEqual(exact, proof.extra)) {
    throw new Error('the extra data is not a SignedAccessDecision in its exact encoding');
  }
  const parsed = fromBinary(AccessDecisionSchema, decision);
  if (parsed.index !== BigInt(proof.index)) {
    throw new Error(`decision ${parsed.index} at leaf ${proof.index}`);
  }
  const kind = DecisionKind[parsed.kind] ?? String(parsed.kind);
  return [{ leaf: proof.extra, decision, signature, parsed }, `decision ${proof.index}: ${kind}`];
}

/** Checks the access service's signature over the decision bytes (the log key signs both). */
export async function verifyDecisionSignature(
  publicKey: Uint8Array,
  leaf: { decision: Uint8Array; signature: Uint8Array },
): Promise<void> {
  await verifyDetached(publicKey, DECISION_DOMAIN, leaf.decision, leaf.signature);
}

/** The decision as a verified receipt reports it. */
export function provenDecision(d: AccessDecision): ProvenDecision {
  return {
    index: Number(d.index),
    kind: DecisionKind[d.kind] ?? String(d.kind),
    atMs: Number(d.atMs),
    ...(d.requestId ? { requestId: d.requestId } : {}),
    ...(d.credentialId ? { credentialId: d.credentialId } : {}),
    ...(d.revocationId ? { revocationId: d.revocationId } : {}),
    ...(d.partnerRef.length > 0 ? { partnerRef: toHex(d.partnerRef) } : {}),
  };
}
