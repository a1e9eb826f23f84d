import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type RunningRegistry, seedTrustSnapshot, startRegistry } from '@vitrine/registry';
import { createLogger } from '@vitrine/rpc';
import {
  startTestTrust,
  type TempDir,
  type TestTrust,
  tempDir,
  testBackends,
} from '@vitrine/testing';
import { callAuthFor, createProfile, saveCredential } from '../src/profile.js';
import { connectRegistry, type RegistryClient } from '../src/registry-client.js';
import { type CliRun, federationFile, runCli } from './run-cli.js';

/** One real registry (center europe, on PGlite) and a data folder whose CLI talks to it. */
export interface TestCenter {
  readonly dir: TempDir;
  readonly registry: RunningRegistry;
  /** A registry client acting as the CLI's operator profile, for setting up state. */
  readonly client: RegistryClient;
  /** Runs `vitrine …` in the data folder's parent, as the operator. */
  cli(...args: string[]): Promise<CliRun>;
  stop(): Promise<void>;
}

/**
 * Starts europe's registry on the embedded backend (these tests are about the CLI; the
 * registry has its own suites on both backends), with the test operator as the CLI's
 * default profile and a federation file naming only europe.
 */
export async function startTestCenter(prefix: string): Promise<TestCenter> {
  const backend = testBackends()[0];
  if (backend === undefined) throw new Error('no test backend');
  const dir = await tempDir(prefix);
  const database = await backend.open();
  let trust: TestTrust | undefined;
  let registry: RunningRegistry | undefined;
  const stop = async () => {
    await registry?.stop();
    await trust?.close();
    await database.cleanup();
    await dir.cleanup();
  };
  try {
    trust = await startTestTrust(['europe']);
    await seedTrustSnapshot(join(dir.path, 'registry'), trust.signed());
    const home = join(dir.path, '.vitrine');
    const operator = await createProfile(home, 'operator', 'operator:test', trust.operator.key);
    const profile = await saveCredential(operator, trust.operator.credential);
    registry = await startRegistry(
      {
        center: { id: 'europe', jurisdiction: 'EU' },
        jurisdictions: ['APAC', 'EU', 'US'],
        listen: { host: '127.0.0.1', port: 0 },
        dataDir: join(dir.path, 'registry'),
        access: { url: trust.url, trustKey: trust.trustKey },
        ...(database.url ? { databaseUrl: database.url } : {}),
      },
      { logger: createLogger('cli-test-center', { VITRINE_LOG_LEVEL: 'silent' }) },
    );
    const url = registry.url;
    const file = federationFile({ asia: url, europe: url, us: url });
    file.centers = file.centers.filter((center) => center.id === 'europe');
    await writeFile(join(home, 'federation.json'), JSON.stringify(file));
    return {
      dir,
      registry,
      client: connectRegistry(url, { center: 'europe', auth: callAuthFor(profile) }),
      cli: (...args) => runCli(args, { cwd: dir.path }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
