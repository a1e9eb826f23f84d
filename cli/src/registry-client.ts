import type { Client } from '@connectrpc/connect';
import { type CallAuth, callAuthInterceptor } from '@vitrine/credentials';
import { RegistryService } from '@vitrine/proto/registry';
import { createGrpcClient } from '@vitrine/rpc';

/** A typed client for one center's `vitrine.registry.v1.RegistryService`. */
export type RegistryClient = Client<typeof RegistryService>;

/**
 * A gRPC (HTTP/2) client for the registry at `baseUrl`, built the way every vitrine
 * client is (`@vitrine/rpc`: trace propagation, no compression for artifact bytes), every
 * call signed as `auth` says (credential and proof of possession).
 * Its connection is unreferenced while idle, so it never keeps the CLI process alive.
 */
export function connectRegistry(baseUrl: string, auth?: () => Promise<CallAuth>): RegistryClient {
  return createGrpcClient(RegistryService, baseUrl, {
    interceptors: auth ? [callAuthInterceptor(auth)] : [],
  });
}
