import type { DescMessage, DescMethod, Message } from '@bufbuild/protobuf';
import type { Interceptor, StreamRequest, UnaryRequest } from '@connectrpc/connect';
import type { SigningKeyPair } from '@vitrine/crypto';
import {
  CREDENTIAL_HEADER,
  PRINCIPAL_HEADER,
  PROOF_HEADER,
  type ProofSubject,
  signProof,
} from './proof.js';
import { firstMessageOf, requestDigest } from './request-digest.js';

/** What a caller presents: its key and either a credential (centers) or a principal (access). */
export type CallAuth =
  | { readonly key: SigningKeyPair; readonly credential: string }
  | { readonly key: SigningKeyPair; readonly principal: string };

/** The RPC path of a method, as proofs name it: `/vitrine.registry.v1.RegistryService/GetArtifact`. */
export function procedureOf(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/**
 * What a proof for this call covers: the audience, the method, the binding and the digest
 * of `message` — the request, or a stream's first message (see `firstMessageOf`).
 */
export function proofSubjectOf(
  req: UnaryRequest<DescMessage, DescMessage> | StreamRequest<DescMessage, DescMessage>,
  message: Message | undefined,
  audience: string,
  binding: string,
): ProofSubject {
  const input = req.method.input as DescMessage;
  return {
    audience,
    procedure: procedureOf(req.method),
    binding,
    requestDigest: requestDigest(input, message),
  };
}

/** The credential a call carries (`authorization: Bearer …`), if any. */
export function credentialOf(header: Headers): string | undefined {
  const value = header.get(CREDENTIAL_HEADER);
  const match = value ? /^Bearer (\S+)$/.exec(value) : null;
  return match?.[1];
}

/**
 * A client interceptor that signs every call for `audience` (the id of the center the
 * client talks to, or `vitrine-access`): `authorization` with the credential (or
 * `vitrine-principal`), and a fresh proof of possession over the request. `auth` is asked
 * per call, so a profile can renew its credential between calls. `now` dates the proof
 * (injected in tests whose servers run on another clock).
 */
export function callAuthInterceptor(
  auth: () => CallAuth | undefined | Promise<CallAuth | undefined>,
  audience: string,
  now: () => number = Date.now,
): Interceptor {
  return (next) => async (req) => {
    const current = await auth();
    if (!current) return next(req);
    const { call, message } = await firstMessageOf(req);
    const binding = 'credential' in current ? current.credential : current.principal;
    if ('credential' in current) call.header.set(CREDENTIAL_HEADER, `Bearer ${current.credential}`);
    else call.header.set(PRINCIPAL_HEADER, current.principal);
    const subject = proofSubjectOf(call, message, audience, binding);
    call.header.set(PROOF_HEADER, await signProof(subject, current.key, now()));
    return next(call);
  };
}
