import type { Client } from '@connectrpc/connect';
import { RegistryService } from '@vitrine/proto/registry';
import { createGrpcClient } from '@vitrine/rpc';

/** A typed client for one center's `vitrine.registry.v1.RegistryService`. */
export type RegistryClient = Client<typeof RegistryService>;

/**
 * A gRPC (HTTP/2) client for the registry at `baseUrl`, built the way every vitrine
 * client is (`@vitrine/rpc`: trace propagation, no compression for artifact bytes).
 * Its connection is unreferenced while idle, so it never keeps the CLI process alive.
 */
export function connectRegistry(baseUrl: string): RegistryClient {
  return createGrpcClient(RegistryService, baseUrl);
}
