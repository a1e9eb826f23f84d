import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { trustKeyPath } from '@vitrine/access';
import { signManifest } from '@vitrine/channel';
import { ARTIFACT_KINDS } from '@vitrine/credentials';
import { generateSigningKeyPair, loadOrCreateKeyFile } from '@vitrine/crypto';
import { CliError } from './cli-error.js';
import type { FederationFile } from './endpoints.js';
import { base64, centerKeyPaths, prepareCenterKeys } from './federation-setup.js';
import { createProfile, DEFAULT_PROFILE, openProfile, profileExists } from './profile.js';

/** The centers `vitrine dev` runs: one per jurisdiction of the demo federation. */
export const DEV_CENTERS = [
  { id: 'asia', jurisdiction: 'APAC' },
  { id: 'europe', jurisdiction: 'EU' },
  { id: 'us', jurisdiction: 'US' },
] as const;

/** The name of the federation `vitrine dev` runs: its logs' origins are `vitrine-dev/<center>`. */
export const DEV_FEDERATION = 'vitrine-dev';

/**
 * The embedded databases' buffer pool in `vitrine dev`: half the default, which keeps about
 * 10 MiB less in each of its four processes. A demo federation holds little data; bulk
 * writes are slower with it (docs/embedded-footprint.md), so `vitrine serve` keeps the default.
 */
export const DEV_EMBEDDED_DATABASE = { sharedBuffers: '8MB' } as const;

/** The port `vitrine dev` starts its layout at unless given `--base-port`. */
export const DEFAULT_BASE_PORT = 7400;

/**
 * Port layout below `--base-port N`: access on N, center i on N+10i (registry) and N+10i+1
 * (sync); each process's Prometheus endpoint, when metrics are exported that way, on the
 * port after its last (access N+2, center i N+10i+2).
 */
export function devPorts(base: number) {
  return {
    access: base,
    accessMetrics: base + 2,
    centers: DEV_CENTERS.map((_, i) => ({
      registry: base + 10 * (i + 1),
      sync: base + 10 * (i + 1) + 1,
      metrics: base + 10 * (i + 1) + 2,
    })),
  };
}

/** Where a dev center keeps its data, and so its keys. */
function centerDir(home: string, id: string): string {
  return join(home, 'centers', id);
}

/** The signed federation manifest `vitrine dev` writes, and the root key that signs it. */
export interface DevFederationTrust {
  readonly manifestFile: string;
  /** base64 Ed25519 public key of the federation root. */
  readonly rootKey: string;
  /** The centers as witnesses of the access log: id, registry address, signing key. */
  readonly witnesses: readonly { id: string; url: string; publicKey: string }[];
}

/**
 * Creates (first start) or reuses the federation root key, every center's signing and
 * key-exchange keys (files 0600 in the data folder), and writes the manifest naming them
 * and the access service's trust key (which signs the access log's checkpoints),
 * signed by the root: the trust every sync service checks its peers against.
 */
export async function prepareDevTrust(
  home: string,
  base: number,
  access?: Pick<DevAccess, 'trustKey'>,
): Promise<DevFederationTrust> {
  const root = await loadOrCreateKeyFile(join(home, 'keys', 'federation-root.key'));
  const ports = devPorts(base);
  const centers = await Promise.all(
    DEV_CENTERS.map((c, i) =>
      prepareCenterKeys(centerDir(home, c.id), {
        id: c.id,
        jurisdiction: c.jurisdiction,
        registry: `http://127.0.0.1:${ports.centers[i]?.registry}`,
        sync: `http://127.0.0.1:${ports.centers[i]?.sync}`,
      }),
    ),
  );
  const signed = await signManifest(
    {
      version: 1,
      federation: DEV_FEDERATION,
      issuedAt: new Date().toISOString(),
      centers,
      access: {
        url: `http://127.0.0.1:${ports.access}`,
        tokenKeys: [],
        ...(access ? { trustKey: access.trustKey } : {}),
      },
    },
    root,
  );
  const manifestFile = join(home, 'federation-manifest.json');
  await writeFile(manifestFile, `${JSON.stringify(signed, null, 2)}\n`);
  const witnesses = centers.map((c) => ({ id: c.id, url: c.registry, publicKey: c.signingKey }));
  return { manifestFile, rootKey: base64(root.publicKey), witnesses };
}

/**
 * Config of one dev center process (`vitrine serve center`), on embedded storage under
 * `home`, following the dev access service for the credentials it accepts.
 */
export function devCenterConfig(
  home: string,
  index: number,
  base: number,
  trust: DevFederationTrust,
  access: Pick<DevAccess, 'url' | 'trustKey'>,
  databaseUrl?: string,
) {
  const center = DEV_CENTERS[index];
  if (!center) throw new Error(`no dev center ${index}`);
  const ports = devPorts(base);
  const own = ports.centers[index];
  if (!own) throw new Error(`no ports for dev center ${index}`);
  return {
    registry: {
      center,
      federation: DEV_FEDERATION,
      jurisdictions: DEV_CENTERS.map((c) => c.jurisdiction),
      listen: { host: '127.0.0.1', port: own.registry },
      dataDir: centerDir(home, center.id),
      access: { url: access.url, trustKey: access.trustKey },
      ...(databaseUrl ? { databaseUrl } : { embeddedDatabase: DEV_EMBEDDED_DATABASE }),
    },
    sync: {
      center,
      listen: { host: '127.0.0.1', port: own.sync },
      manifestFile: trust.manifestFile,
      federationRootKey: trust.rootKey,
      keyFile: centerKeyPaths(centerDir(home, center.id)).signing,
    },
  };
}

/** The local operator account `vitrine dev` creates: every role, so one person can demo it all. */
const DEV_OPERATOR = { name: 'local', roles: ['operator', 'approver', 'security'] } as const;

/** What centers need to follow the dev access service: its URL and trust public key. */
export interface DevAccess {
  readonly url: string;
  /** base64 Ed25519 public key that signs trust snapshots. */
  readonly trustKey: string;
  /** base64 public key of the local operator account (profile `operator`). */
  readonly operatorKey: string;
}

/**
 * Creates (first start) or reuses the access service's trust key and the local operator:
 * its key and the CLI profile `operator` (principal `operator:local`), so every command
 * signs as that operator with no extra step.
 */
export async function prepareDevAccess(home: string, base: number): Promise<DevAccess> {
  const trust = await loadOrCreateKeyFile(trustKeyPath({ dataDir: join(home, 'access') }));
  const principal = `operator:${DEV_OPERATOR.name}`;
  const profile = (await profileExists(home, DEFAULT_PROFILE))
    ? await openProfile(home, DEFAULT_PROFILE)
    : await createProfile(home, DEFAULT_PROFILE, principal, await generateSigningKeyPair());
  if (profile.principal !== principal) {
    throw new CliError(
      'CONFIG',
      `profile '${DEFAULT_PROFILE}' in ${home} is ${profile.principal}, not the dev operator ${principal}`,
    );
  }
  return {
    url: `http://127.0.0.1:${devPorts(base).access}`,
    trustKey: base64(trust.publicKey),
    operatorKey: base64(profile.key.publicKey),
  };
}

/**
 * Config of the dev access service: the local operator, one policy per jurisdiction of the
 * dev centers (720 h, every kind, one approver), and the centers as its log's witnesses.
 */
export function devAccessConfig(
  home: string,
  base: number,
  access: DevAccess,
  witnesses: DevFederationTrust['witnesses'],
) {
  const jurisdictions = Object.fromEntries(
    DEV_CENTERS.map((c) => [
      c.jurisdiction,
      { centers: [c.id], maxLifetimeHours: 720, kinds: [...ARTIFACT_KINDS], approvals: 1 },
    ]),
  );
  return {
    listen: { host: '127.0.0.1', port: devPorts(base).access },
    federation: DEV_FEDERATION,
    dataDir: join(home, 'access'),
    embeddedDatabase: DEV_EMBEDDED_DATABASE,
    operators: [{ ...DEV_OPERATOR, roles: [...DEV_OPERATOR.roles], publicKey: access.operatorKey }],
    jurisdictions,
    log: { witnesses: [...witnesses] },
  };
}

/** What the running federation looks like, for `<home>/federation.json`. */
export function devFederationFile(
  access: { readonly url: string; readonly trustKey: string },
  centers: readonly {
    id: string;
    jurisdiction: string;
    registry: string;
    sync: string;
    publicKey: string;
  }[],
): FederationFile & { centers: { publicKey: string }[] } {
  return {
    version: 1,
    access: { id: 'access', url: access.url, trustKey: access.trustKey },
    centers: [...centers],
  };
}
