import { randomBytes } from 'node:crypto';
import {
  type SignatureDomain,
  type SigningKeyPair,
  sha256,
  signDetached,
  toHex,
  verifyDetached,
} from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import { base64url, strictBase64url } from './paserk.js';
import type { ReplayGuard } from './replay-guard.js';

/**
 * Proof of possession: every call carries, beside its credential, a signature by the
 * credential's `cnf` key over the service it is addressed to (a center id, or the access
 * service), the method, a timestamp, a fresh nonce, what it is bound to (the credential
 * itself, or the principal for calls made with a key alone) and the digest of its request
 * message. A stolen token is useless without the key; a captured proof is useless at another
 * center, for another method or request, or a second time. docs/proof-of-possession.md is
 * the specification.
 *
 * Header value: `v2.<audience>.<unix ms>.<nonce, 16 bytes base64url>.<signature base64url>`.
 */
export const PROOF_HEADER = 'vitrine-proof';
/** `Bearer <PASETO>`. */
export const CREDENTIAL_HEADER = 'authorization';
/** For calls made with a key alone (at the access service): `partner:<id>` / `operator:<name>`. */
export const PRINCIPAL_HEADER = 'vitrine-principal';
/** The audience proofs for the access service name (its issuer name, never a center id). */
export const ACCESS_AUDIENCE = 'vitrine-access';

/** Signature domain of proofs; v1 proofs (no audience, no digest on streams) are refused. */
export const PROOF_DOMAIN: SignatureDomain = 'vitrine/proof/v2\n';

/** How an audience is spelled: a center id (`europe`) or `vitrine-access`. */
const AUDIENCE = /^[a-z][a-z0-9-]{0,31}$/;

/** What a proof covers. */
export interface ProofSubject {
  /** The id of the service the call is addressed to: a center id or `vitrine-access`. */
  readonly audience: string;
  /** The RPC path, `/vitrine.registry.v1.RegistryService/GetArtifact`. */
  readonly procedure: string;
  /** The credential token or, for key-only calls, the principal. */
  readonly binding: string;
  /** `requestDigest()` of the call's request, or of a stream's first message. */
  readonly requestDigest: Uint8Array;
}

/** Signs a proof for one call. Time and nonce are parameters for test vectors only. */
export async function signProof(
  subject: ProofSubject,
  key: SigningKeyPair,
  now: number = Date.now(),
  nonceBytes: Uint8Array = randomBytes(16),
): Promise<string> {
  if (!AUDIENCE.test(subject.audience)) {
    throw new VitrineError('invalid_argument', `'${subject.audience}' is not a proof audience`);
  }
  const nonce = base64url(nonceBytes);
  const signature = await signDetached(key, PROOF_DOMAIN, proofMessage(subject, now, nonce));
  return `v2.${subject.audience}.${now}.${nonce}.${base64url(signature)}`;
}

/** What a verifier checks a proof against. */
export interface ProofCheck {
  readonly publicKey: Uint8Array;
  readonly now?: number;
  /** How far a proof's time may be from the verifier's clock, in milliseconds. */
  readonly maxSkewMs?: number;
  readonly replays: ReplayGuard;
}

/** Default window a proof stays acceptable (either side of the verifier's clock). */
export const DEFAULT_PROOF_SKEW_MS = 60_000;

/**
 * Verifies a proof made for `subject` (whose audience is the verifier's own id), in order:
 * header format, signature by the holder key over what the header states, audience,
 * freshness, then that its nonce was not seen before (only a valid proof can consume a
 * nonce). Throws `unauthenticated` naming the failed check only.
 */
export async function verifyProof(
  header: string | null | undefined,
  subject: ProofSubject,
  check: ProofCheck,
): Promise<void> {
  const proof = parseProof(header);
  const stated = { ...subject, audience: proof.audience };
  try {
    await verifyDetached(
      check.publicKey,
      PROOF_DOMAIN,
      proofMessage(stated, proof.at, proof.nonce),
      proof.signature,
      'unauthenticated',
    );
  } catch {
    throw new VitrineError('unauthenticated', 'proof of possession is not valid');
  }
  if (proof.audience !== subject.audience) {
    throw new VitrineError(
      'unauthenticated',
      `proof of possession is for ${proof.audience}, not ${subject.audience}`,
    );
  }
  const now = check.now ?? Date.now();
  const skew = check.maxSkewMs ?? DEFAULT_PROOF_SKEW_MS;
  if (Math.abs(now - proof.at) > skew) {
    throw new VitrineError('unauthenticated', 'proof of possession is stale: check the clock');
  }
  const key = sha256(new TextEncoder().encode(`${subject.binding}\n${proof.nonce}`));
  if (!(await check.replays.admit(key, proof.at + skew, now))) {
    throw new VitrineError('unauthenticated', 'proof of possession was replayed');
  }
}

interface ParsedProof {
  readonly audience: string;
  readonly at: number;
  readonly nonce: string;
  readonly signature: Uint8Array;
}

function parseProof(header: string | null | undefined): ParsedProof {
  const parts = header?.split('.') ?? [];
  const [version, audience = '', time = '', nonce = '', sig = ''] = parts;
  const signature = strictBase64url(sig);
  if (
    parts.length !== 5 ||
    version !== 'v2' ||
    !AUDIENCE.test(audience) ||
    !/^\d{1,15}$/.test(time) ||
    strictBase64url(nonce)?.length !== 16 ||
    !signature
  ) {
    throw new VitrineError('unauthenticated', `missing or malformed ${PROOF_HEADER} header`);
  }
  return { audience, at: Number(time), nonce, signature };
}

/** The signed message after the domain: six lines, no final newline (spec §3). */
export function proofMessage(subject: ProofSubject, at: number, nonce: string): Uint8Array {
  const { audience, procedure, binding, requestDigest } = subject;
  return new TextEncoder().encode(
    `${audience}\n${procedure}\n${at}\n${nonce}\n${binding}\n${toHex(requestDigest)}`,
  );
}
