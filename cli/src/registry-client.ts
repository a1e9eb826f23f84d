import type { Client } from '@connectrpc/connect';
import { type CallAuth, callAuthInterceptor } from '@vitrine/credentials';
import { RegistryService } from '@vitrine/proto/registry';
import { createGrpcClient } from '@vitrine/rpc';

/** A typed client for one center's `vitrine.registry.v1.RegistryService`. */
export type RegistryClient = Client<typeof RegistryService>;

/** Who signs a client's calls, and the center its proofs are made for. */
export interface CenterSigning {
  readonly center: string;
  readonly auth: () => Promise<CallAuth>;
}

/**
 * A gRPC (HTTP/2) client for the registry at `baseUrl`, built the way every vitrine
 * client is (`@vitrine/rpc`: trace propagation, no compression for artifact bytes), every
 * call signed as `signing` says (credential and a proof of possession for that center).
 * Its connection is unreferenced while idle, so it never keeps the CLI process alive.
 */
export function connectRegistry(baseUrl: string, signing?: CenterSigning): RegistryClient {
  return createGrpcClient(RegistryService, baseUrl, {
    interceptors: signing ? [callAuthInterceptor(signing.auth, signing.center)] : [],
  });
}
