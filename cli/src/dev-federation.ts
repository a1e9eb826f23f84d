import { join } from 'node:path';
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

/** Config of one dev center process (`vitrine serve center`), on embedded storage under `home`. */
export function devCenterConfig(home: string, index: number, base: number) {
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
      dataDir: join(home, 'centers', center.id),
    },
    sync: {
      center,
      listen: { host: '127.0.0.1', port: own.sync },
      peers: DEV_CENTERS.flatMap((peer, i) =>
        i === index ? [] : [{ id: peer.id, url: `http://127.0.0.1:${ports.centers[i]?.sync}` }],
      ),
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
