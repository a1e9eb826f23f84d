import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadOrCreateKxKeyFile, signManifest } from '@vitrine/channel';
import { loadOrCreateKeyFile } from '@vitrine/crypto';
import type { FederationFile } from './endpoints.js';

/** The centers `vitrine dev` runs: one per jurisdiction of the demo federation. */
export const DEV_CENTERS = [
  { id: 'asia', jurisdiction: 'APAC' },
  { id: 'europe', jurisdiction: 'EU' },
  { id: 'us', jurisdiction: 'US' },
] as const;

/** Port layout below `--base-port N`: access on N, center i on N+10i (registry) and N+10i+1 (sync). */
export function devPorts(base: number) {
  return {
    access: base,
    centers: DEV_CENTERS.map((_, i) => ({
      registry: base + 10 * (i + 1),
      sync: base + 10 * (i + 1) + 1,
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
}

/**
 * Creates (first start) or reuses the federation root key, every center's signing and
 * key-exchange keys (files 0600 in the data folder), and writes the manifest naming them,
 * signed by the root: the trust every sync service checks its peers against.
 */
export async function prepareDevTrust(home: string, base: number): Promise<DevFederationTrust> {
  const root = await loadOrCreateKeyFile(join(home, 'keys', 'federation-root.key'));
  const ports = devPorts(base);
  const centers = await Promise.all(
    DEV_CENTERS.map(async (c, i) => {
      const keys = join(centerDir(home, c.id), 'keys');
      const signing = await loadOrCreateKeyFile(join(keys, 'center.key'));
      const kx = await loadOrCreateKxKeyFile(join(keys, 'center-kx.key'));
      return {
        id: c.id,
        jurisdiction: c.jurisdiction,
        registry: `http://127.0.0.1:${ports.centers[i]?.registry}`,
        sync: `http://127.0.0.1:${ports.centers[i]?.sync}`,
        signingKey: base64(signing.publicKey),
        kxKey: base64(kx.publicKey),
      };
    }),
  );
  const signed = await signManifest(
    {
      version: 1,
      federation: 'vitrine-dev',
      issuedAt: new Date().toISOString(),
      centers,
      access: { url: `http://127.0.0.1:${ports.access}`, tokenKeys: [] },
    },
    root,
  );
  const manifestFile = join(home, 'federation-manifest.json');
  await writeFile(manifestFile, `${JSON.stringify(signed, null, 2)}\n`);
  return { manifestFile, rootKey: base64(root.publicKey) };
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** Config of one dev center process (`vitrine serve center`), on embedded storage under `home`. */
export function devCenterConfig(
  home: string,
  index: number,
  base: number,
  trust: DevFederationTrust,
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
      jurisdictions: DEV_CENTERS.map((c) => c.jurisdiction),
      listen: { host: '127.0.0.1', port: own.registry },
      dataDir: centerDir(home, center.id),
      ...(databaseUrl ? { databaseUrl } : {}),
    },
    sync: {
      center,
      listen: { host: '127.0.0.1', port: own.sync },
      manifestFile: trust.manifestFile,
      federationRootKey: trust.rootKey,
      keyFile: join(centerDir(home, center.id), 'keys', 'center.key'),
    },
  };
}

/** Config of the dev access service. */
export function devAccessConfig(home: string, base: number) {
  return {
    listen: { host: '127.0.0.1', port: devPorts(base).access },
    dataDir: join(home, 'access'),
  };
}

/** What the running federation looks like, for `<home>/federation.json`. */
export function devFederationFile(
  accessUrl: string,
  centers: readonly {
    id: string;
    jurisdiction: string;
    registry: string;
    sync: string;
    publicKey: string;
  }[],
): FederationFile & { centers: { publicKey: string }[] } {
  return { version: 1, access: { id: 'access', url: accessUrl }, centers: [...centers] };
}
