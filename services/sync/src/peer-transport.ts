import { readFile } from 'node:fs/promises';
import { BlockList, isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { FederationCenter, FederationManifest } from '@vitrine/channel';
import { VitrineError } from '@vitrine/errors';
import type { ClientOptions, ServerTls } from '@vitrine/rpc';
import type { SyncConfig } from './config.js';

/** Where and how to call one peer's sync service. */
export interface PeerEndpoint {
  readonly url: string;
  readonly options: ClientOptions;
}

/**
 * How a center's sync service meets its peers on the wire, beneath the end-to-end channel:
 * mutual TLS, or plaintext HTTP/2 that never leaves the machine. The channel already keeps
 * payloads secret from anything in between; TLS keeps strangers from reaching the sync
 * port at all and hides who talks to whom.
 */
export interface PeerTransport {
  /** What the sync server listens with: mutual TLS, or undefined for plaintext on loopback. */
  readonly serverTls: ServerTls | undefined;
  endpoint(peer: FederationCenter): PeerEndpoint;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** True for `localhost` and addresses in 127.0.0.0/8 or ::1 (bracketed as in URLs or not). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare.toLowerCase() === 'localhost') return true;
  const family = isIP(bare);
  return family !== 0 && LOOPBACK.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/** Without TLS, refuses a listen address or a peer endpoint beyond this machine, naming each. */
function assertLoopbackOnly(config: SyncConfig, manifest: FederationManifest): void {
  const advice = 'configure sync.tls (mutual TLS); plaintext sync is allowed only on loopback';
  const problems: string[] = [];
  if (!isLoopbackHost(config.listen.host)) {
    problems.push(`sync.listen.host ${config.listen.host} is not loopback`);
  }
  for (const peer of manifest.centers) {
    if (peer.id === config.center.id || isLoopbackHost(new URL(peer.sync).hostname)) continue;
    problems.push(`peer ${peer.id}'s sync endpoint ${peer.sync} in the manifest is not loopback`);
  }
  if (problems.length > 0) {
    throw new VitrineError('invalid_argument', `${problems.join('; ')}: ${advice}`);
  }
}

/** Reads one PEM file a `sync.tls` setting names; a missing file is a config error. */
async function readPem(setting: keyof NonNullable<SyncConfig['tls']>, path: string) {
  try {
    return await readFile(path);
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? String(cause);
    throw new VitrineError(
      'invalid_argument',
      `cannot read sync.tls.${setting} ${path} (${reason})`,
      {
        cause,
      },
    );
  }
}

/** The certificate, key and CA bundle, checked to load together before anything listens. */
async function readTlsIdentity(tls: NonNullable<SyncConfig['tls']>) {
  const identity = {
    cert: await readPem('certFile', tls.certFile),
    key: await readPem('keyFile', tls.keyFile),
    ca: await readPem('caFile', tls.caFile),
  };
  try {
    createSecureContext(identity);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new VitrineError('invalid_argument', `sync.tls files do not load: ${reason}`, { cause });
  }
  return identity;
}

/**
 * Decides, once at start, how sync reaches and serves peers. With `tls` set: mutual TLS
 * both ways and every peer dialled over https. Without it: plaintext, and only if the
 * listen address and every peer endpoint in the manifest are loopback — anything else is
 * refused here (`invalid_argument`, naming the setting) rather than sent in the clear.
 */
export async function loadPeerTransport(
  config: SyncConfig,
  manifest: FederationManifest,
): Promise<PeerTransport> {
  if (config.tls === undefined) {
    assertLoopbackOnly(config, manifest);
    return { serverTls: undefined, endpoint: (peer) => ({ url: peer.sync, options: {} }) };
  }
  const identity = await readTlsIdentity(config.tls);
  return {
    serverTls: { ...identity, requestCert: true },
    endpoint: (peer) => ({
      url: peer.sync.replace(/^http:/, 'https:'),
      options: { tls: identity },
    }),
  };
}
