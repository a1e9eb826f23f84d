import { type DescMessage, type DescMethod, type Message, toBinary } from '@bufbuild/protobuf';
import type { Interceptor, StreamRequest, UnaryRequest } from '@connectrpc/connect';
import { type SigningKeyPair, sha256 } from '@vitrine/crypto';
import {
  CREDENTIAL_HEADER,
  PRINCIPAL_HEADER,
  PROOF_HEADER,
  type ProofSubject,
  signProof,
} from './proof.js';

/** What a caller presents: its key and either a credential (centers) or a principal (access). */
export type CallAuth =
  | { readonly key: SigningKeyPair; readonly credential: string }
  | { readonly key: SigningKeyPair; readonly principal: string };

/** The RPC path of a method, as proofs name it: `/vitrine.registry.v1.RegistryService/GetArtifact`. */
export function procedureOf(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/**
 * What a proof for this call covers. The request digest is taken over the serialized
 * request for single-message requests (the same bytes on both sides: protobuf-es writes
 * fields in number order); a streaming request is bound by method, time and nonce only.
 */
export function proofSubjectOf(
  req: UnaryRequest<DescMessage, DescMessage> | StreamRequest<DescMessage, DescMessage>,
  binding: string,
): ProofSubject {
  const procedure = procedureOf(req.method);
  if (req.stream) return { procedure, binding };
  const input = req.method.input as DescMessage;
  return { procedure, binding, requestDigest: sha256(toBinary(input, req.message as Message)) };
}

/** The credential a call carries (`authorization: Bearer …`), if any. */
export function credentialOf(header: Headers): string | undefined {
  const value = header.get(CREDENTIAL_HEADER);
  const match = value ? /^Bearer (\S+)$/.exec(value) : null;
  return match?.[1];
}

/**
 * A client interceptor that signs every call: `authorization` with the credential (or
 * `vitrine-principal`), and a fresh proof of possession. `auth` is asked per call, so a
 * profile can renew its credential between calls. `now` dates the proof (injected in tests
 * whose servers run on another clock).
 */
export function callAuthInterceptor(
  auth: () => CallAuth | undefined | Promise<CallAuth | undefined>,
  now: () => number = Date.now,
): Interceptor {
  return (next) => async (req) => {
    const current = await auth();
    if (current) {
      const binding = 'credential' in current ? current.credential : current.principal;
      if ('credential' in current)
        req.header.set(CREDENTIAL_HEADER, `Bearer ${current.credential}`);
      else req.header.set(PRINCIPAL_HEADER, current.principal);
      req.header.set(
        PROOF_HEADER,
        await signProof(proofSubjectOf(req, binding), current.key, now()),
      );
    }
    return next(req);
  };
}
