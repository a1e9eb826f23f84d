/**
 * Registry throughput: ingest (PushArtifact) and download (PullArtifact) of one large file
 * through a registry running in its own process on embedded storage, beside `sha256sum`
 * of the same file in the same run, plus the peak memory of both processes.
 *
 *   npx tsx bench/registry-throughput.ts [MiB=1024]
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { RegistryService } from '@vitrine/proto/registry';
import { createGrpcClient } from '@vitrine/rpc';
import { writeRandomFile } from './bench-files.js';
import { median, run, time } from './measure.js';
import { peakRssMiB } from './process-stats.js';
import { pushFile } from './push-file.js';

const MIB = 1024 * 1024;
const sizeMiB = Number(process.argv[2] ?? 1024);
const VITRINE = fileURLToPath(new URL('../bin/vitrine.js', import.meta.url));
const dataDir = fileURLToPath(new URL('.data/', import.meta.url));

/** Writes (once) a file of incompressible pseudo-random bytes, streamed. */
async function benchFile(): Promise<string> {
  const path = join(dataDir, `random-${sizeMiB}MiB.bin`);
  if ((await stat(path).catch(() => undefined))?.size === sizeMiB * MIB) return path;
  await mkdir(dataDir, { recursive: true });
  await writeRandomFile(path, sizeMiB * MIB, 'registry-throughput');
  return path;
}

/** Starts `vitrine serve registry` on a fresh data folder; resolves with its URL and pid. */
async function startRegistryProcess(home: string) {
  const config = join(home, 'registry.json');
  await writeFile(
    config,
    JSON.stringify({
      center: { id: 'bench', jurisdiction: 'EU' },
      jurisdictions: ['EU'],
      listen: { host: '127.0.0.1', port: 0 },
      dataDir: join(home, 'data'),
      access: { mode: 'open' },
    }),
  );
  const child = spawn(
    process.execPath,
    [VITRINE, 'serve', 'registry', '--config', config, '--json'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, VITRINE_LOG_LEVEL: 'warn' },
    },
  );
  const line = await new Promise<string>((resolve) =>
    createInterface({ input: child.stdout }).once('line', resolve),
  );
  const { registry } = JSON.parse(line) as { registry: string };
  return { url: registry, child };
}

async function main() {
  const file = await benchFile();
  const bytes = sizeMiB * MIB;
  const mbps = (ms: number) => bytes / 1e6 / (ms / 1000);
  const sha = await time(3, () => run('sha256sum', [file]));
  const home = await mkdtemp(join(tmpdir(), 'vitrine-bench-'));
  const { url, child } = await startRegistryProcess(home);
  try {
    const client = createGrpcClient(RegistryService, url);
    let id = '';
    const push = (version: string) => async () => {
      const pushed = await pushFile(client, file, {
        kind: ArtifactKind.UPDATE,
        product: 'bench',
        version,
      });
      id = pushed.artifact?.id ?? '';
    };
    const ingest = await time(1, push('fresh'));
    const dedup = await time(1, push('again'));
    const pull = await time(3, async () => {
      const hash = createHash('sha256');
      for await (const res of client.pullArtifact({ id })) {
        if (res.part.case === 'data') hash.update(res.part.value);
      }
    });
    const rows = [
      ['sha256sum (baseline)', median(sha)],
      ['ingest, new content', median(ingest)],
      ['ingest, every chunk already held', median(dedup)],
      ['download (verified), median of 3', median(pull)],
    ] as const;
    console.log(`registry throughput, ${sizeMiB} MiB file, ${new Date().toISOString()}`);
    for (const [name, ms] of rows) {
      const ratio = ms / median(sha);
      console.log(
        `  ${name.padEnd(36)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${mbps(ms).toFixed(0).padStart(5)} MB/s  ${ratio.toFixed(2)}× sha256sum time`,
      );
    }
    console.log(
      `  peak RSS: registry ${(await peakRssMiB(child.pid ?? 0)).toFixed(0)} MiB, client ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(home, { recursive: true, force: true });
  }
}

await main();
