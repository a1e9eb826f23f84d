/**
 * The baseline artifact replication is compared against: Syncthing, a peer that does the
 * same job (SHA-256 of every block, verified by the receiver before it is written; mutual
 * TLS 1.3 on every link; every received file synced to disk). Three daemons on 127.0.0.1 —
 * an origin sharing a folder send-only with two receivers — with discovery, relays, NAT
 * traversal, the file watcher, usage and crash reporting and upgrades off, Syncthing's
 * defaults kept otherwise (fsync on, SHA-256 blocks, no compression of block data) and
 * `setLowPriority` off, so it runs at the same priority as the centers. A file is placed in
 * the origin's folder untimed; the timed part is the scan, triggered through the REST API
 * (so no change-detection delay counts), and the transfer, until both receivers report the
 * file complete; both copies are then checked by SHA-256.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './measure.js';
import { cpuSeconds, peakRssMiB, resetPeakRss } from './process-stats.js';

const FOLDER = 'bench';
const NAMES = ['origin', 'r1', 'r2'] as const;
/** How often the REST status is polled while a transfer is timed. */
const POLL_MS = 100;
/** Bound on start-up and on each timed phase. */
const TIMEOUT_MS = 900_000;

/** What one replication by Syncthing took. */
export interface SyncthingResult {
  /** The origin's scan: read, hash and index the file. */
  readonly scanMs: number;
  /** From the scan's end until both receivers hold the file complete. */
  readonly transferMs: number;
  /** CPU seconds of each daemon (monitor and worker process) over scan and transfer. */
  readonly cpuS: readonly number[];
  /** Peak resident memory of each daemon (monitor plus worker) over scan and transfer, MiB. */
  readonly peakRssMiB: readonly number[];
}

interface Daemon {
  readonly name: string;
  readonly home: string;
  readonly folder: string;
  readonly guiPort: number;
  readonly bepPort: number;
  readonly id: string;
  process?: ChildProcess;
  /** The monitor `syncthing serve` starts and the worker it forks (Syncthing 1.x). */
  pids?: readonly number[];
}

/**
 * Whether Syncthing can run here: installed, or installed now (`apt-get`, as root). A
 * reason it cannot otherwise, for the benchmark to print beside the skipped baseline.
 */
export async function ensureSyncthing(): Promise<string | undefined> {
  const present = () =>
    run('syncthing', ['--version']).then(
      () => true,
      () => false,
    );
  if (await present()) return undefined;
  if (process.getuid?.() !== 0) {
    return 'syncthing is missing: run `apt-get install -y syncthing` as root';
  }
  try {
    await run('apt-get', ['install', '-y', 'syncthing']);
  } catch (err) {
    return `apt-get install -y syncthing failed: ${(err as Error).message.split('\n')[0]}`;
  }
  return (await present()) ? undefined : 'syncthing is still missing after apt-get install';
}

/** Three Syncthing daemons on loopback: an origin and two receivers of its folder. */
export class LoopbackSyncthing {
  readonly #apiKey = `bench-${randomBytes(16).toString('hex')}`;
  #runs = 0;

  private constructor(private readonly daemons: readonly Daemon[]) {}

  /** The daemons' version, for the report. */
  static async version(): Promise<string> {
    return (await run('syncthing', ['--version'])).split(' ')[1] ?? 'unknown';
  }

  /**
   * Generates three devices in `dir` (ports `basePort`…`basePort + 5` on 127.0.0.1), starts
   * them and waits until the origin is connected to both receivers and every folder is idle.
   */
  static async start(dir: string, basePort: number): Promise<LoopbackSyncthing> {
    const daemons: Daemon[] = [];
    for (const [i, name] of NAMES.entries()) {
      const home = join(dir, name, 'home');
      const folder = join(dir, name, 'folder');
      await mkdir(home, { recursive: true });
      await mkdir(join(folder, '.stfolder'), { recursive: true });
      await run('syncthing', [
        'generate',
        `--home=${home}`,
        '--no-default-folder',
        '--skip-port-probing',
      ]);
      const id = (await run('syncthing', ['serve', '--device-id', `--home=${home}`])).trim();
      if (!/^[A-Z0-9]{7}(-[A-Z0-9]{7}){7}$/.test(id)) {
        throw new Error(`could not read the device ID of Syncthing ${name}: '${id}'`);
      }
      daemons.push({
        name,
        home,
        folder,
        id,
        guiPort: basePort + 2 * i,
        bepPort: basePort + 2 * i + 1,
      });
    }
    const st = new LoopbackSyncthing(daemons);
    for (const [i, daemon] of daemons.entries()) {
      await writeFile(join(daemon.home, 'config.xml'), st.#config(i));
    }
    for (const daemon of daemons) st.#spawn(daemon, dir);
    try {
      await st.#ready();
    } catch (err) {
      await st.stop();
      throw err;
    }
    return st;
  }

  /** Waits until the origin is connected to both receivers and every folder is idle. */
  async #ready(): Promise<void> {
    const daemons = this.daemons;
    await this.#until('the REST API of all three daemons', async () => {
      for (const d of daemons)
        if ((await this.#api<{ ping?: string }>(d, '/rest/system/ping')).ping !== 'pong')
          return false;
      return true;
    });
    for (const daemon of daemons) daemon.pids = await daemonPids(daemon);
    const [origin, r1, r2] = daemons as [Daemon, Daemon, Daemon];
    await this.#until('the origin connected to both receivers', async () => {
      const { connections } = await this.#api<{
        connections: Record<string, { connected?: boolean } | undefined>;
      }>(origin, '/rest/system/connections');
      return connections[r1.id]?.connected === true && connections[r2.id]?.connected === true;
    });
    await this.#until('every folder idle after its first scan', async () => {
      for (const d of daemons) {
        const s = await this.#status(d);
        if (s.state !== 'idle' || s.globalBytes !== 0) return false;
      }
      return true;
    });
  }

  /**
   * Replicates `file` (`bytes` long) from the origin to both receivers and checks both
   * copies by SHA-256; removes it everywhere afterwards (untimed), ready for the next run.
   */
  async replicate(file: string, bytes: number): Promise<SyncthingResult> {
    const [origin, r1, r2] = this.daemons as [Daemon, Daemon, Daemon];
    const name = `artifact-${this.#runs++}.bin`;
    const expected = await sha256File(file);
    const placed = join(origin.folder, name);
    await link(file, placed).catch(() => copyFile(file, placed));
    const pids = this.daemons.flatMap((d) => d.pids ?? []);
    await Promise.all(pids.map((pid) => resetPeakRss(pid)));
    const cpuBefore = await Promise.all(this.daemons.map((d) => daemonCpu(d)));
    const start = performance.now();
    await this.#api(origin, `/rest/db/scan?folder=${FOLDER}`, 'POST');
    await this.#until(
      'the origin to scan the file',
      async () => {
        const s = await this.#status(origin);
        return s.state === 'idle' && s.localBytes === bytes;
      },
      POLL_MS,
    );
    const scanned = performance.now();
    await this.#until(
      'both receivers to hold the file',
      async () => {
        for (const d of [r1, r2]) {
          const s = await this.#status(d);
          const complete =
            s.state === 'idle' &&
            s.needBytes === 0 &&
            s.inSyncBytes === bytes &&
            s.globalBytes === bytes &&
            s.localBytes === bytes;
          if (!complete) return false;
        }
        return true;
      },
      POLL_MS,
    );
    const done = performance.now();
    const cpuAfter = await Promise.all(this.daemons.map((d) => daemonCpu(d)));
    const peaks = await Promise.all(
      this.daemons.map(async (d) => {
        let sum = 0;
        for (const pid of d.pids ?? []) sum += await peakRssMiB(pid);
        return sum;
      }),
    );
    for (const d of [r1, r2]) {
      const got = await sha256File(join(d.folder, name));
      if (got !== expected) {
        throw new Error(`Syncthing ${d.name}'s copy has SHA-256 ${got}, the origin's ${expected}`);
      }
    }
    await this.#remove(name);
    return {
      scanMs: scanned - start,
      transferMs: done - scanned,
      cpuS: cpuAfter.map((after, i) => after - (cpuBefore[i] ?? 0)),
      peakRssMiB: peaks,
    };
  }

  /** Stops the daemons this started (SIGTERM to each monitor, which stops its worker). */
  async stop(): Promise<void> {
    await Promise.all(
      this.daemons.map(async (d) => {
        const child = d.process;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          for (const pid of [...(d.pids ?? [])].reverse()) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        }, 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  /** Deletes `name` at the origin and waits until every folder is empty again. */
  async #remove(name: string): Promise<void> {
    const [origin] = this.daemons as [Daemon];
    await rm(join(origin.folder, name));
    await this.#api(origin, `/rest/db/scan?folder=${FOLDER}`, 'POST');
    await this.#until('the file to be deleted everywhere', async () => {
      for (const d of this.daemons) {
        const s = await this.#status(d);
        if (s.state !== 'idle' || s.globalBytes !== 0 || s.localBytes !== 0) return false;
      }
      return true;
    });
  }

  #spawn(daemon: Daemon, dir: string): void {
    const log = join(dir, `${daemon.name}.log`);
    const child = spawn(
      'syncthing',
      ['serve', `--home=${daemon.home}`, '--no-browser', '--no-restart', '--no-upgrade'],
      {
        env: { ...process.env, STNODEFAULTFOLDER: '1', STNOUPGRADE: '1', STNORESTART: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const lines: string[] = [];
    const keep = (data: Buffer) => {
      lines.push(data.toString());
      if (lines.length > 200) lines.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('exit', () => void writeFile(log, lines.join('')).catch(() => undefined));
    daemon.process = child;
  }

  async #api<T>(daemon: Daemon, path: string, method = 'GET'): Promise<T> {
    const child = daemon.process;
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`Syncthing ${daemon.name} exited (${child.exitCode ?? child.signalCode})`);
    }
    const response = await fetch(`http://127.0.0.1:${daemon.guiPort}${path}`, {
      method,
      headers: { 'X-API-Key': this.#apiKey },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`Syncthing ${daemon.name}: ${method} ${path}: ${response.status} ${text}`);
    }
    return (text ? JSON.parse(text) : {}) as T;
  }

  #status(daemon: Daemon): Promise<FolderStatus> {
    return this.#api<FolderStatus>(daemon, `/rest/db/status?folder=${FOLDER}`);
  }

  /** Polls `check` (errors before the deadline count as "not yet" during start-up). */
  async #until(what: string, check: () => Promise<boolean>, intervalMs = 100): Promise<void> {
    const deadline = performance.now() + TIMEOUT_MS;
    for (;;) {
      let ok = false;
      try {
        ok = await check();
      } catch (err) {
        if (
          this.daemons.some(
            (d) => d.process?.exitCode !== null && d.process?.exitCode !== undefined,
          )
        ) {
          throw err;
        }
      }
      if (ok) return;
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  #config(self: number): string {
    const daemons = this.daemons;
    const me = daemons[self] as Daemon;
    const sharers = self === 0 ? [0, 1, 2] : [0, self];
    const device = (j: number) => {
      const d = daemons[j] as Daemon;
      const address = j === self ? 'dynamic' : `tcp://127.0.0.1:${d.bepPort}`;
      return `    <device id="${d.id}" name="${d.name}" compression="metadata" introducer="false" skipIntroductionRemovals="false" introducedBy="">
        <address>${address}</address>
        <paused>false</paused>
        <autoAcceptFolders>false</autoAcceptFolders>
        <untrusted>false</untrusted>
    </device>`;
    };
    return `<configuration version="36">
    <folder id="${FOLDER}" label="${FOLDER}" path="${me.folder}" type="${self === 0 ? 'sendonly' : 'receiveonly'}" rescanIntervalS="86400" fsWatcherEnabled="false" fsWatcherDelayS="10" ignorePerms="false" autoNormalize="true">
        <filesystemType>basic</filesystemType>
${sharers.map((j) => `        <device id="${(daemons[j] as Daemon).id}" introducedBy=""><encryptionPassword></encryptionPassword></device>`).join('\n')}
        <minDiskFree unit="%">1</minDiskFree>
        <copiers>0</copiers>
        <pullerMaxPendingKiB>0</pullerMaxPendingKiB>
        <hashers>0</hashers>
        <order>random</order>
        <paused>false</paused>
        <markerName>.stfolder</markerName>
        <maxConcurrentWrites>2</maxConcurrentWrites>
        <disableFsync>false</disableFsync>
        <blockPullOrder>standard</blockPullOrder>
        <copyRangeMethod>standard</copyRangeMethod>
    </folder>
${[0, 1, 2].map(device).join('\n')}
    <gui enabled="true" tls="false" debugging="false">
        <address>127.0.0.1:${me.guiPort}</address>
        <apikey>${this.#apiKey}</apikey>
    </gui>
    <options>
        <listenAddress>tcp://127.0.0.1:${me.bepPort}</listenAddress>
        <globalAnnounceEnabled>false</globalAnnounceEnabled>
        <localAnnounceEnabled>false</localAnnounceEnabled>
        <announceLANAddresses>false</announceLANAddresses>
        <reconnectionIntervalS>5</reconnectionIntervalS>
        <relaysEnabled>false</relaysEnabled>
        <startBrowser>false</startBrowser>
        <natEnabled>false</natEnabled>
        <stunKeepaliveStartS>0</stunKeepaliveStartS>
        <urAccepted>-1</urAccepted>
        <urSeen>3</urSeen>
        <autoUpgradeIntervalH>0</autoUpgradeIntervalH>
        <crashReportingEnabled>false</crashReportingEnabled>
        <setLowPriority>false</setLowPriority>
        <insecureAllowOldTLSVersions>false</insecureAllowOldTLSVersions>
    </options>
</configuration>
`;
  }
}

/** The fields of `/rest/db/status` the benchmark reads. */
interface FolderStatus {
  readonly state: string;
  readonly globalBytes: number;
  readonly localBytes: number;
  readonly needBytes: number;
  readonly inSyncBytes: number;
}

/** The monitor process and the one worker it forked. */
async function daemonPids(daemon: Daemon): Promise<number[]> {
  const monitor = daemon.process?.pid;
  if (monitor === undefined) throw new Error(`Syncthing ${daemon.name} did not start`);
  const children: number[] = [];
  for (const task of await readdir(`/proc/${monitor}/task`)) {
    const listed = await readFile(`/proc/${monitor}/task/${task}/children`, 'utf8');
    children.push(...listed.trim().split(/\s+/).filter(Boolean).map(Number));
  }
  if (children.length !== 1) {
    throw new Error(
      `Syncthing ${daemon.name}: expected one worker process, found ${children.length}`,
    );
  }
  return [monitor, ...children];
}

async function daemonCpu(daemon: Daemon): Promise<number> {
  let sum = 0;
  for (const pid of daemon.pids ?? []) sum += await cpuSeconds(pid);
  return sum;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(piece);
  return hash.digest('hex');
}
