import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3ChunkSettings, S3Credentials } from '@vitrine/chunks';
import { freePortBlock } from './free-port.js';

const run = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL('../s3/', import.meta.url));
const INSTALL = fileURLToPath(new URL('../../../.ci/install-interop-tools', import.meta.url));
/** Folder where one run's shared gateway lives; set by the global setup. */
export const TEST_GATEWAY_ENV = 'VITRINE_TEST_GATEWAY_DIR';
const CEPH = ['/usr/bin/ceph-mon', '/usr/bin/ceph-osd', '/usr/bin/radosgw'];

/**
 * Why the S3 tests cannot run here, or undefined when they can: they run a real Ceph RADOS
 * Gateway, installed from Debian's packages when missing, which needs root and apt.
 */
export const testGatewaySkipReason: string | undefined = (() => {
  if (CEPH.every((path) => existsSync(path))) return undefined;
  if (process.getuid?.() !== 0)
    return 'S3 tests need Ceph (ceph-mon ceph-osd radosgw) or root to install it';
  if (!existsSync('/usr/bin/apt-get'))
    return 'S3 tests need Ceph (ceph-mon ceph-osd radosgw) or apt-get to install it';
  return undefined;
})();

/** A real RADOS Gateway (S3) on 127.0.0.1, with a user that may do anything and one that may only read. */
export interface TestGateway {
  readonly endpoint: string;
  readonly credentials: S3Credentials;
  readonly readOnly: S3Credentials;
  /** Creates an empty bucket of its own for a test and returns its name. */
  bucket(): Promise<string>;
  /** Chunk store settings for `bucket`, with the full-access key unless others are given. */
  settings(bucket: string, overrides?: Partial<S3ChunkSettings>): S3ChunkSettings;
}

/**
 * The run's gateway: the first test file to ask starts it (a dozen seconds) and every other
 * file of the run shares it, each in buckets of its own; the global setup stops it when the
 * run ends. Outside such a run, the gateway is this process's and stops when it exits.
 */
export async function testGateway(): Promise<TestGateway> {
  if (testGatewaySkipReason !== undefined) throw new Error(testGatewaySkipReason);
  const shared = process.env[TEST_GATEWAY_ENV];
  const dir = shared ?? (await mkdtemp(join(tmpdir(), 'vitrine-rgw-')));
  if (shared === undefined) {
    process.once('exit', () => {
      execFileSync('bash', [join(SCRIPTS, 'stop-radosgw.sh'), join(dir, 'ceph')]);
      rmSync(dir, { recursive: true, force: true });
    });
  }
  const found = await startOnce(dir);
  return gatewayOf(found);
}

/** Stops the gateway a run started in `dir`, if any, and removes `dir`. */
export async function stopTestGateway(dir: string): Promise<void> {
  await run('bash', [join(SCRIPTS, 'stop-radosgw.sh'), join(dir, 'ceph')]);
  await rm(dir, { recursive: true, force: true });
}

/** What start-radosgw.sh prints. */
interface Started {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly readOnly: S3Credentials;
}

/** Starts the gateway in `dir` unless another process of the run has (or is starting) it. */
async function startOnce(dir: string): Promise<Started> {
  const answer = join(dir, 'gateway.json');
  const failed = join(dir, 'failed');
  const first = await mkdir(join(dir, 'lock')).then(
    () => true,
    () => false,
  );
  if (first) {
    try {
      if (!CEPH.every((path) => existsSync(path))) await run('bash', [INSTALL]);
      const base = await freePortBlock(2);
      const { stdout } = await run('bash', [
        join(SCRIPTS, 'start-radosgw.sh'),
        join(dir, 'ceph'),
        String(base),
        String(base + 1),
      ]);
      await writeFile(answer, stdout);
    } catch (err) {
      await writeFile(failed, String(err));
      throw err;
    }
  }
  for (;;) {
    if (existsSync(failed))
      throw new Error(`the test gateway failed to start: ${await readFile(failed, 'utf8')}`);
    const text = await readFile(answer, 'utf8').catch(() => '');
    if (text.endsWith('\n')) return JSON.parse(text) as Started;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function gatewayOf(started: Started): TestGateway {
  const credentials = {
    accessKeyId: started.accessKeyId,
    secretAccessKey: started.secretAccessKey,
  };
  const settings = (bucket: string, overrides: Partial<S3ChunkSettings> = {}): S3ChunkSettings => ({
    endpoint: started.endpoint,
    bucket,
    region: 'us-east-1',
    prefix: 'chunks/',
    pathStyle: true,
    credentials,
    maxInFlight: 8,
    settingPrefix: 'chunkStore',
    ...overrides,
  });
  return {
    endpoint: started.endpoint,
    credentials,
    readOnly: started.readOnly,
    settings,
    async bucket() {
      const name = `test-${randomBytes(6).toString('hex')}`;
      const client = new S3Client({
        endpoint: started.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials,
      });
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }));
      } finally {
        client.destroy();
      }
      return name;
    },
  };
}
