import { randomBytes } from 'node:crypto';
import {
  type SignatureDomain,
  type SigningKeyPair,
  signDetached,
  toHex,
  verifyDetached,
} from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import { base64url, strictBase64url } from './paserk.js';

/**
 * Proof of possession: every call carries, beside its credential, a signature by the
 * credential's `cnf` key over the method, a timestamp, a fresh nonce, what it is bound to
 * (the credential itself, or the principal for calls made with a key alone) and the request
 * digest where the request is a single message. A stolen token is useless without the key;
 * a captured proof is useless for another method, another request or a second time.
 *
 * Header value: `v1.<unix ms>.<nonce, 16 bytes base64url>.<signature base64url>`.
 */
export const PROOF_HEADER = 'vitrine-proof';
/** `Bearer <PASETO>`. */
export const CREDENTIAL_HEADER = 'authorization';
/** For calls made with a key alone (at the access service): `partner:<id>` / `operator:<name>`. */
export const PRINCIPAL_HEADER = 'vitrine-principal';

const DOMAIN: SignatureDomain = 'vitrine/proof/v1\n';

/** What a proof covers. */
export interface ProofSubject {
  /** The RPC path, `/vitrine.registry.v1.RegistryService/GetArtifact`. */
  readonly procedure: string;
  /** The credential token or, for key-only calls, the principal. */
  readonly binding: string;
  /** SHA-256 of the serialized request message; empty for streaming requests. */
  readonly requestDigest?: Uint8Array;
}

/** Signs a proof for one call. */
export async function signProof(
  subject: ProofSubject,
  key: SigningKeyPair,
  now: number = Date.now(),
): Promise<string> {
  const nonce = base64url(randomBytes(16));
  const signature = await signDetached(key, DOMAIN, proofMessage(subject, now, nonce));
  return `v1.${now}.${nonce}.${base64url(signature)}`;
}

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
 * Verifies a proof: signature by the holder key, freshness, then that its nonce was not
 * seen before (only a valid proof can consume a nonce). Throws `unauthenticated` naming the
 * failed check only.
 */
export async function verifyProof(
  header: string | null | undefined,
  subject: ProofSubject,
  check: ProofCheck,
): Promise<void> {
  const parts = header?.split('.') ?? [];
  const [version, time, nonce, sig] = parts;
  const at = Number(time);
  const signature = sig === undefined ? undefined : strictBase64url(sig);
  if (
    parts.length !== 4 ||
    version !== 'v1' ||
    !/^\d{1,15}$/.test(time ?? '') ||
    !nonce ||
    strictBase64url(nonce)?.length !== 16 ||
    !signature
  ) {
    throw new VitrineError('unauthenticated', `missing or malformed ${PROOF_HEADER} header`);
  }
  try {
    await verifyDetached(
      check.publicKey,
      DOMAIN,
      proofMessage(subject, at, nonce),
      signature,
      'unauthenticated',
    );
  } catch {
    throw new VitrineError('unauthenticated', 'proof of possession is not valid');
  }
  const now = check.now ?? Date.now();
  const skew = check.maxSkewMs ?? DEFAULT_PROOF_SKEW_MS;
  if (Math.abs(now - at) > skew) {
    throw new VitrineError('unauthenticated', 'proof of possession is stale: check the clock');
  }
  if (!check.replays.admit(`${subject.binding}/${nonce}`, at + skew, now)) {
    throw new VitrineError('unauthenticated', 'proof of possession was replayed');
  }
}

function proofMessage(subject: ProofSubject, at: number, nonce: string): Uint8Array {
  const digest = subject.requestDigest ? toHex(subject.requestDigest) : '';
  return new TextEncoder().encode(
    `${subject.procedure}\n${at}\n${nonce}\n${subject.binding}\n${digest}`,
  );
}

/**
 * Remembers the nonces of accepted proofs until they could no longer pass the freshness
 * check, so each proof is accepted once. Memory is bounded by the call rate times the skew
 * window; expired entries are dropped as new ones arrive.
 */
export class ReplayGuard {
  readonly #seen = new Map<string, number>();
  #nextSweep = 0;

  /** True (and remembered) the first time `nonce` is seen before `until`. */
  admit(nonce: string, until: number, now: number = Date.now()): boolean {
    if (now >= this.#nextSweep) this.#sweep(now);
    const known = this.#seen.get(nonce);
    if (known !== undefined && known > now) return false;
    this.#seen.set(nonce, until);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }

  #sweep(now: number): void {
    for (const [nonce, until] of this.#seen) if (until <= now) this.#seen.delete(nonce);
    this.#nextSweep = now + 1_000;
  }
}
