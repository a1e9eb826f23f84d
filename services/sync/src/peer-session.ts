import type { Client } from '@connectrpc/connect';
import { type FederationCenter, initiateHandshake, type Session } from '@vitrine/channel';
import { SyncService } from '@vitrine/proto/sync';
import { createGrpcClient } from '@vitrine/rpc';
import type { Federation } from './federation.js';

/** A fresh session with a peer's sync service, and the client to open its stream on. */
export interface PeerSession {
  readonly client: Client<typeof SyncService>;
  readonly session: Session;
}

/**
 * A client of a peer's sync service over this center's peer transport: one HTTP/2
 * connection, which a caller opening many sessions to the peer passes back in to reuse.
 */
export function peerClient(
  federation: Federation,
  peer: FederationCenter,
): Client<typeof SyncService> {
  const { url, options } = federation.transport.endpoint(peer);
  return createGrpcClient(SyncService, url, options);
}

/**
 * Connects to a peer over this center's peer transport (mutual TLS, or plaintext on
 * loopback) and runs the handshake: both sides authenticated against the federation
 * manifest, fresh keys for the one stream this session will carry.
 */
export async function openPeerSession(
  federation: Federation,
  peer: FederationCenter,
  signal: AbortSignal,
  client = peerClient(federation, peer),
): Promise<PeerSession> {
  const pending = await initiateHandshake({
    manifest: federation.manifest,
    self: federation.self,
    peerId: peer.id,
  });
  const session = await pending.complete(await client.handshake(pending.request, { signal }));
  return { client, session };
}
