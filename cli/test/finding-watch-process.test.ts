import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { Severity } from '@vitrine/proto/finding';
import { type RunningRegistry, seedTrustSnapshot, startRegistry } from '@vitrine/registry';
import { createLogger } from '@vitrine/rpc';
import { startTestTrust, type TempDir, type TestTrust, tempDir } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAuthFor, createProfile, saveCredential } from '../src/profile.js';
import { connectRegistry, type RegistryClient } from '../src/registry-client.js';
import { federationFile, runCli } from './run-cli.js';

const VITRINE = fileURLToPath(new URL('../../bin/vitrine.js', import.meta.url));

/** The lines a running process prints, taken one at a time as they come. */
class Lines {
  readonly #lines: string[] = [];
  #waiting: (() => void) | undefined;

  constructor(stream: NodeJS.ReadableStream) {
    createInterface({ input: stream }).on('line', (line) => {
      this.#lines.push(line);
      this.#waiting?.();
    });
  }

  async next(): Promise<string> {
    while (this.#lines.length === 0) {
      await new Promise<void>((resolve) => {
        this.#waiting = resolve;
      });
    }
    return this.#lines.shift() as string;
  }
}

interface WatchLine {
  position: string;
  heartbeat?: true;
  change?: string;
  origin?: string;
  finding?: { id: string; status: string; commentCount: number };
}

describe('vitrine finding watch, a real process against a registry that restarts', () => {
  let dir: TempDir;
  let trust: TestTrust;
  let registry: RunningRegistry;
  let client: RegistryClient;
  let child: ChildProcess | undefined;
  const start = (port: number) =>
    startRegistry(
      {
        center: { id: 'europe', jurisdiction: 'EU' },
        jurisdictions: ['APAC', 'EU', 'US'],
        listen: { host: '127.0.0.1', port },
        dataDir: join(dir.path, 'registry'),
        access: { url: trust.url, trustKey: trust.trustKey },
      },
      { logger: createLogger('cli-watch', { VITRINE_LOG_LEVEL: 'silent' }), watchHeartbeatMs: 200 },
    );

  beforeAll(async () => {
    dir = await tempDir('vitrine-cli-watch-');
    trust = await startTestTrust(['europe']);
    await seedTrustSnapshot(join(dir.path, 'registry'), trust.signed());
    const home = join(dir.path, '.vitrine');
    const operator = await createProfile(home, 'operator', 'operator:test', trust.operator.key);
    const profile = await saveCredential(operator, trust.operator.credential);
    registry = await start(0);
    const file = federationFile({ asia: registry.url, europe: registry.url, us: registry.url });
    file.centers = file.centers.filter((center) => center.id === 'europe');
    await writeFile(join(home, 'federation.json'), JSON.stringify(file));
    client = connectRegistry(registry.url, { center: 'europe', auth: callAuthFor(profile) });
  });
  afterAll(async () => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    await registry?.stop();
    await trust?.close();
    await dir?.cleanup();
  });

  it('prints changes as JSON lines, resumes after a restart without repeats, ends on SIGINT', async () => {
    const push = async (product: string) => {
      async function* upload() {
        const metadata = { kind: ArtifactKind.SOURCE, product, version: '1', residency: [] };
        yield { part: { case: 'metadata' as const, value: metadata } };
        yield { part: { case: 'data' as const, value: new Uint8Array(1_000).fill(7) } };
      }
      return (await client.pushArtifact(upload())).artifact?.id ?? '';
    };
    const agent = await push('agent');
    const router = await push('router');
    const finding = async (artifactId: string) =>
      (
        await client.createFinding({
          artifactIds: [artifactId],
          title: 'Open port',
          severity: Severity.LOW,
        })
      ).finding?.id ?? '';

    const env = { ...process.env };
    delete env.VITRINE_HOME;
    const watcher = spawn(
      process.execPath,
      [VITRINE, 'finding', 'watch', '--center', 'europe', '--product', 'agent', '--json'],
      { cwd: dir.path, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = watcher;
    let stderr = '';
    watcher.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const lines = new Lines(watcher.stdout as NodeJS.ReadableStream);
    const next = async () => JSON.parse(await lines.next()) as WatchLine;
    const nextChange = async () => {
      for (;;) {
        const line = await next();
        if (!line.heartbeat) return line;
      }
    };
    // The first heartbeat: the watch is live from here on.
    expect((await next()).heartbeat).toBe(true);

    const first = await finding(agent);
    await finding(router);
    await client.addComment({ findingId: first, text: 'port 8443 too' });
    const created = await nextChange();
    const commented = await nextChange();
    expect([created.change, created.finding?.id, created.origin]).toEqual([
      'created',
      first,
      'europe',
    ]);
    expect([commented.change, commented.finding?.id, commented.finding?.commentCount]).toEqual([
      'commented',
      first,
      1,
    ]);

    const port = registry.port;
    await registry.stop();
    registry = await start(port);
    const second = await finding(agent);
    const resumed = await nextChange();
    expect([resumed.change, resumed.finding?.id]).toEqual(['created', second]);
    expect(stderr).toContain('reconnecting');

    watcher.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => watcher.once('exit', resolve));
    expect(code).toBe(0);
  });
  it('refuses a position the center did not send, and a status it does not know', async () => {
    const at = (...args: string[]) =>
      runCli(['finding', 'watch', '--center', 'europe', ...args], { cwd: dir.path });
    const bad = await at('--from', 'not-a-position', '--json');
    expect(bad.code).toBe(1);
    expect(bad.json()).toMatchObject({
      error: {
        code: 'INVALID_ARGUMENT',
        violations: [
          {
            field: 'after',
            description: expect.stringContaining('not a position this center sent'),
          },
        ],
      },
    });
    const usage = await at('--status', 'closed');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('closed');
  });
});
