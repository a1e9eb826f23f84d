/**
 * A federation for benchmarks: the three centers of `vitrine dev` (asia, europe, us), each
 * `vitrine serve center` in a process of its own, with the configs and signed manifest
 * `vitrine dev` writes, on a fresh data folder. Storage is PGlite, or — when
 * VITRINE_DATABASE_URL names a PostgreSQL server — a fresh database there (a schema per
 * center), dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@connectrpc/connect';
import { RegistryService } from '@vitrine/proto/registry';
import { SyncService } from '@vitrine/proto/sync';
import { createGrpcClient } from '@vitrine/rpc';
import type { DatabaseOptions } from '@vitrine/storage';
import pg from 'pg';
import { devDatabaseUrls } from '../cli/src/dev-database.js';
import {
  DEV_CENTERS,
  type DevFederationTrust,
  devCenterConfig,
  devPorts,
  prepareDevTrust,
} from '../cli/src/dev-federation.js';
import { describeExit, ServiceProcess } from '../cli/src/service-process.js';
import type { RegistryConfigInput } from '../services/registry/src/config.js';

/**
 * The benchmarks measure replication, so registry calls are not access-checked: the access
 * block `vitrine dev` writes is replaced by access mode `open` in each center's config (every
 * call is let through as the local operator). This stands in for it until then.
 */
const UNCHECKED = { url: 'http://127.0.0.1:1', trustKey: `${'A'.repeat(43)}=` };

/** A center id of the dev federation. */
export type CenterId = (typeof DEV_CENTERS)[number]['id'];

/** What a benchmark talks to at one running center. */
export interface BenchCenter {
  readonly id: CenterId;
  readonly registry: Client<typeof RegistryService>;
  /** The registry's address (its LogService and /log/ tiles as well). */
  readonly url: string;
  /** The process running the center's registry and sync (not a wrapper). */
  readonly pid: number;
}

/** How the federation's processes run. */
export interface BenchFederationOptions {
  readonly home: string;
  /** PostgreSQL server to keep state on (a fresh database is created); PGlite otherwise. */
  readonly databaseUrl?: string | undefined;
  /** Folder for each center's CPU profile (`node --cpu-prof`), written when it stops. */
  readonly cpuProfileDir?: string | undefined;
  /** More Node flags for every center (say `--trace-gc`, whose lines go to its log). */
  readonly nodeFlags?: readonly string[] | undefined;
  /** A center's `chunkStore` setting (an S3 bucket, say); local pack files otherwise. */
  readonly chunkStores?: Partial<Record<CenterId, RegistryConfigInput['chunkStore']>>;
}

/** What a center (re)starts with, beside its dev config. */
export interface BenchCenterSettings {
  /** Whether its sync service gathers cosignatures from the peers' witnesses (default on). */
  readonly witnessing?: boolean;
}

/** Three centers as real processes, started, restarted and stopped by the benchmark. */
export class BenchFederation {
  readonly #running = new Map<CenterId, BenchCenter & { readonly process: ServiceProcess }>();

  private constructor(
    private readonly options: BenchFederationOptions,
    private readonly base: number,
    private readonly trust: DevFederationTrust,
    private readonly storage: FreshDatabases,
  ) {}

  /** Writes keys and the signed manifest, prepares storage and starts every center. */
  static async start(options: BenchFederationOptions): Promise<BenchFederation> {
    const base = 20_000 + 100 * Math.floor(Math.random() * 400);
    await mkdir(join(options.home, 'config'), { recursive: true });
    await mkdir(join(options.home, 'logs'), { recursive: true });
    const trust = await prepareDevTrust(options.home, base);
    const storage = await freshDatabases(options.databaseUrl);
    const federation = new BenchFederation(options, base, trust, storage);
    await Promise.all(DEV_CENTERS.map((c) => federation.startCenter(c.id)));
    return federation;
  }

  /** Which storage the centers run on, for the report. */
  get storageKind(): string {
    return this.storage.server ? 'PostgreSQL' : 'PGlite';
  }

  /** A fresh database of the kind the centers use: a schema beside theirs, or a PGlite folder. */
  async scratchDatabase(name: string): Promise<DatabaseOptions> {
    const server = this.storage.server;
    if (!server) return { dataDir: join(this.options.home, name) };
    const urls = await devDatabaseUrls({ VITRINE_DATABASE_URL: server }, [name]);
    return { url: urls?.get(name) };
  }

  /** The folder of the centers' configs, data and logs. */
  get home(): string {
    return this.options.home;
  }

  /** A running center. */
  center(id: CenterId): BenchCenter {
    const running = this.#running.get(id);
    if (!running) throw new Error(`center ${id} is not running`);
    return running;
  }

  /** Starts (or restarts, keeping its data) one center; resolves once it serves. */
  async startCenter(id: CenterId, settings: BenchCenterSettings = {}): Promise<void> {
    const index = DEV_CENTERS.findIndex((c) => c.id === id);
    const { home } = this.options;
    const dev = devCenterConfig(
      home,
      index,
      this.base,
      this.trust,
      UNCHECKED,
      this.storage.centers?.get(id),
    );
    const chunkStore = this.options.chunkStores?.[id];
    const registry = {
      ...dev.registry,
      access: { mode: 'open' },
      ...(chunkStore ? { chunkStore } : {}),
    };
    const log = { gatherCosignatures: settings.witnessing ?? true };
    const config = { ...dev, registry, sync: { ...dev.sync, log } };
    const file = join(this.options.home, 'config', `${id}.json`);
    await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
    const logFile = join(this.options.home, 'logs', `${id}.log`);
    const profile = this.options.cpuProfileDir;
    const nodeArgs = [
      ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
      ...(this.options.nodeFlags ?? []),
    ];
    const service = await ServiceProcess.start(id, 'center', file, logFile, this.#env(), nodeArgs);
    const url = `http://127.0.0.1:${devPorts(this.base).centers[index]?.registry}`;
    const client = createGrpcClient(RegistryService, url);
    const pid = service.pid ?? 0;
    this.#running.set(id, { id, registry: client, url, pid, process: service });
    void service.exited.then((exit) => {
      if (this.#running.get(id)?.process !== service) return;
      console.error(`center ${id} stopped unexpectedly (${describeExit(exit)}); see ${logFile}`);
    });
  }

  /** Stops one center (SIGTERM, as an operator would). */
  async stopCenter(id: CenterId): Promise<void> {
    const running = this.#running.get(id);
    this.#running.delete(id);
    await running?.process.stop();
  }

  /** Artifact bytes `id` has fetched from peers since it started (its sync status). */
  async bytesFetched(id: CenterId): Promise<number> {
    const index = DEV_CENTERS.findIndex((c) => c.id === id);
    const url = `http://127.0.0.1:${devPorts(this.base).centers[index]?.sync}`;
    const status = await createGrpcClient(SyncService, url).getStatus({});
    return status.peers.reduce((sum, peer) => sum + Number(peer.bytesFetched), 0);
  }

  /** Stops every center and drops the PostgreSQL database, if one was made. */
  async close(): Promise<void> {
    await Promise.all([...this.#running.keys()].map((id) => this.stopCenter(id)));
    await this.storage.drop();
  }

  /** Each center's environment: the bench's, with warnings and errors only in its log. */
  #env(): Record<string, string | undefined> {
    return { ...process.env, VITRINE_LOG_LEVEL: 'warn' };
  }
}

/** A fresh PostgreSQL database for one run: its URL, each center's, how to drop it. */
interface FreshDatabases {
  readonly server: string | undefined;
  readonly centers: Map<string, string> | undefined;
  drop(): Promise<void>;
}

/** Creates a fresh database (a schema per center) on the server at `serverUrl`, if any. */
async function freshDatabases(serverUrl: string | undefined): Promise<FreshDatabases> {
  if (!serverUrl) return { server: undefined, centers: undefined, drop: async () => {} };
  const name = `vitrine_bench_${randomBytes(4).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const centers = await devDatabaseUrls(
    { VITRINE_DATABASE_URL: url.toString() },
    DEV_CENTERS.map((c) => c.id),
  );
  return {
    server: url.toString(),
    centers,
    drop: () => admin(`drop database ${name} with (force)`),
  };
}
