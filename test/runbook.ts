import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:http2';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createTestCertificateAuthority } from '@vitrine/testing';
import { vitrineCommand, vitrineJson } from './cli-process.js';

/** The three centers of the example federation of docs/deployment.md. */
export const CENTERS = [
  { id: 'asia', jurisdiction: 'APAC' },
  { id: 'europe', jurisdiction: 'EU' },
  { id: 'us', jurisdiction: 'US' },
] as const;

/** One of the centers' ids. */
export type CenterId = (typeof CENTERS)[number]['id'];

/** Where one center's host serves: its manifest URLs and the addresses it listens on. */
export interface CenterHost {
  readonly registry: string;
  readonly sync: string;
  readonly registryListen: string;
  readonly syncListen: string;
  /** IP addresses its TLS certificate names besides loopback: the host's own. */
  readonly addresses: readonly string[];
}

/** The hosts the runbook sets up: the access service's and one per center. */
export interface RunbookHosts {
  readonly access: { readonly url: string; readonly listen: string };
  readonly centers: Readonly<Record<CenterId, CenterHost>>;
}

/** What the runbook reports back: the root public key and what the steps printed. */
export interface RunbookResult {
  readonly rootKey: string;
  /** The centers `federation sign` put in the manifest. */
  readonly signedCenters: readonly string[];
  /** `config center`'s `tls` flag per center: true when the sync port uses mutual TLS. */
  readonly tls: readonly boolean[];
}

/**
 * Runs steps 1–7 of docs/deployment.md into `dir`, each host a folder: the root host
 * (`root/`), the access host (`access-host/`), three center hosts (`<id>-host/`) and the
 * operator's machine (`alice/`, profile `operator` with every role). Only public files pass
 * between folders; the configs are `access.json` and `<id>.json`, the certificates of a
 * CA made for the run `ca.pem`, `<id>.pem`, `<id>-key.pem`.
 */
export async function runRunbook(dir: string, hosts: RunbookHosts): Promise<RunbookResult> {
  const p = (...parts: string[]) => join(dir, ...parts);
  const ca = await createTestCertificateAuthority('acme-tc federation CA');
  await writeFile(p('ca.pem'), ca.cert);
  for (const c of CENTERS) {
    const pair = await ca.issue(c.id, hosts.centers[c.id].addresses);
    await writeFile(p(`${c.id}.pem`), pair.cert);
    await writeFile(p(`${c.id}-key.pem`), pair.key, { mode: 0o600 });
  }
  // Every host makes its keys on its own, so these steps run at once; only the root's
  // draft is written step by step (add-center, below).
  const [root] = await Promise.all([
    vitrineJson<{ rootKey: string }>([
      ...['federation', 'init', '--name', 'acme-tc', '--out', p('root')],
    ]),
    vitrineJson(['access', 'init', '--url', hosts.access.url, '--out', p('access-host')]),
    ...CENTERS.map(({ id, jurisdiction }) => {
      const host = hosts.centers[id];
      return vitrineJson([
        ...['center', 'init', '--id', id, '--jurisdiction', jurisdiction],
        ...['--registry', host.registry, '--sync', host.sync, '--out', p(`${id}-host`)],
      ]);
    }),
    vitrineJson([
      ...['operator', 'init', '--name', 'alice'],
      ...['--role', 'operator', '--role', 'approver', '--role', 'security'],
      ...['--data', p('alice'), '--out', p('alice.json')],
    ]),
  ]);
  for (const c of CENTERS) {
    await vitrineJson([
      ...['federation', 'add-center', '--draft', p('root', 'federation-draft.json')],
      ...['--center', p(`${c.id}-host`, 'center-public.json')],
    ]);
  }
  const signed = await vitrineJson<{ centers: string[] }>([
    ...['federation', 'sign', '--draft', p('root', 'federation-draft.json')],
    ...['--root-key-file', p('root', 'federation-root.key')],
    ...['--access', p('access-host', 'access-public.json')],
    ...['--out', p('federation-manifest.json'), '--client', p('alice', 'federation.json')],
  ]);
  const manifest = ['--manifest', p('federation-manifest.json'), '--root-key', root.rootKey];
  const [, ...configs] = await Promise.all([
    vitrineJson([
      ...['config', 'access', '--access-dir', p('access-host'), ...manifest],
      ...[
        '--listen',
        hosts.access.listen,
        '--operator',
        p('alice.json'),
        '--out',
        p('access.json'),
      ],
    ]),
    ...CENTERS.map(({ id }) => {
      const host = hosts.centers[id];
      return vitrineJson<{ tls: boolean }>([
        ...['config', 'center', '--center-dir', p(`${id}-host`), ...manifest],
        ...['--access', p('access-host', 'access-public.json')],
        ...['--registry-listen', host.registryListen, '--sync-listen', host.syncListen],
        ...['--tls-cert', p(`${id}.pem`), '--tls-key', p(`${id}-key.pem`)],
        ...['--tls-ca', p('ca.pem'), '--out', p(`${id}.json`)],
      ]);
    }),
  ]);
  return {
    rootKey: root.rootKey,
    signedCenters: signed.centers,
    tls: configs.map((c) => c.tls),
  };
}

/** A `vitrine serve … --json` process, once it has printed its ready line. */
export interface Served {
  readonly child: ChildProcess;
  readonly ready: Record<string, unknown>;
}

/**
 * Starts `vitrine serve SERVICE --config CONFIG --json` (inside network namespace `netns`
 * if given) and resolves once it has printed its ready line.
 */
export async function serve(service: string, config: string, netns?: string): Promise<Served> {
  const [file, argv] = vitrineCommand(['serve', service, '--config', config, '--json'], netns);
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const line = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    exited.then((code) => {
      throw new Error(`vitrine serve ${service} exited ${code}: ${stderr}`);
    }),
  ]);
  const ready = JSON.parse(line) as Record<string, unknown>;
  if (ready.ready !== true) throw new Error(`vitrine serve ${service}: ${line}`);
  return { child, ready };
}

/** Stops a served process with SIGTERM and waits for it to exit. */
export async function stop(served: Served | undefined): Promise<void> {
  if (!served || served.child.exitCode !== null) return;
  const exited = new Promise((resolve) => served.child.once('exit', resolve));
  served.child.kill('SIGTERM');
  await exited;
}

/**
 * One HTTP/2 request to a sync port with the given TLS options: 'answered' when the server
 * sent response headers (any status), else the error that ended the connection.
 */
export function syncCall(
  url: string,
  tls: { ca: string; cert?: string; key?: string },
): Promise<string> {
  return new Promise((resolve) => {
    const session = connect(url, tls);
    const done = (result: string) => {
      session.destroy();
      resolve(result);
    };
    session.on('error', (err) => done(err.message));
    const req = session.request({
      ':method': 'POST',
      ':path': '/vitrine.sync.v1.SyncService/GetStatus',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    req.on('response', () => done('answered'));
    req.on('error', (err) => done(err.message));
    req.on('close', () => done('closed'));
    req.end();
  });
}
