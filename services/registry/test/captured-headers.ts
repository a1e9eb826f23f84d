import { type Client, Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { CREDENTIAL_HEADER, PROOF_HEADER } from '@vitrine/credentials';
import { RegistryService } from '@vitrine/proto/registry';
import { createGrpcClient } from '@vitrine/rpc';
import { grpcCodeOf } from '@vitrine/testing';

type Registry = Client<typeof RegistryService>;

/** What an eavesdropper keeps of a call: its credential and proof headers. */
export interface CapturedHeaders {
  readonly credential: string;
  readonly proof: string;
}

/**
 * Makes `call` through a client signed by `auth` and keeps its credential and proof, with
 * the gRPC code the call ended with. With `send: false` the call is stopped before it
 * leaves (an eavesdropper intercepted it), so its nonce is still unspent.
 */
export async function captureHeaders(
  url: string,
  auth: Interceptor,
  call: (client: Registry) => Promise<unknown>,
  send: boolean,
): Promise<{ headers: CapturedHeaders; code: string }> {
  let headers: CapturedHeaders | undefined;
  const capture: Interceptor = (next) => async (req) => {
    headers = {
      credential: req.header.get(CREDENTIAL_HEADER) ?? '',
      proof: req.header.get(PROOF_HEADER) ?? '',
    };
    if (send) return next(req);
    throw new ConnectError('kept by the eavesdropper', Code.Aborted);
  };
  const client = createGrpcClient(RegistryService, url, { interceptors: [auth, capture] });
  const code = await grpcCodeOf(call(client));
  if (!headers) throw new Error(`the call was not made (${code})`);
  return { headers, code };
}

/** A client that sends every call with `headers`, as an attacker replaying them would. */
export function replayingClient(url: string, headers: CapturedHeaders): Registry {
  const replay: Interceptor = (next) => (req) => {
    req.header.set(CREDENTIAL_HEADER, headers.credential);
    req.header.set(PROOF_HEADER, headers.proof);
    return next(req);
  };
  return createGrpcClient(RegistryService, url, { interceptors: [replay] });
}
