/**
 * The baseline the replication benchmarks compare against: `rsync` over SSH on loopback.
 * Starts a private sshd (generated host and client keys, 127.0.0.1 on a high port, this
 * user's login only) and runs rsync through it, reporting its time and literal data.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { run, waitFor } from './measure.js';

const SSHD = '/usr/sbin/sshd';

/** What one rsync run did. */
export interface RsyncResult {
  readonly ms: number;
  /** "Literal data" of `rsync --stats`: bytes sent that the receiver did not already hold. */
  readonly literalBytes: number;
}

/** A private sshd on loopback and the rsync command that goes through it. */
export class LoopbackSsh {
  private constructor(
    private readonly sshd: ChildProcess,
    private readonly sshArgs: readonly string[],
  ) {}

  /** Generates keys in `dir`, starts sshd on `port` and waits until a login works. */
  static async start(dir: string, port: number): Promise<LoopbackSsh> {
    await ensureSshd();
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const hostKey = join(dir, 'host_key');
    const clientKey = join(dir, 'client_key');
    for (const key of [hostKey, clientKey]) {
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    }
    await run('cp', [`${clientKey}.pub`, join(dir, 'authorized_keys')]);
    const config = join(dir, 'sshd_config');
    await writeFile(
      config,
      [
        `ListenAddress 127.0.0.1:${port}`,
        `HostKey ${hostKey}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AllowUsers ${userInfo().username}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        '',
      ].join('\n'),
    );
    await mkdir('/run/sshd', { recursive: true }); // privilege separation directory
    const sshd = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let said = '';
    sshd.stderr?.on('data', (data: Buffer) => {
      said += data.toString();
    });
    const ssh = new LoopbackSsh(sshd, [
      ...['-p', String(port), '-i', clientKey],
      ...['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'],
      ...['-o', 'LogLevel=ERROR', '-o', 'BatchMode=yes'],
    ]);
    await waitFor(async () => {
      if (sshd.exitCode !== null) throw new Error(`sshd on port ${port} exited: ${said.trim()}`);
      return ssh.#loginWorks();
    }, 100);
    return ssh;
  }

  /** `rsync --stats` of `source` to `target` (a path on the loopback host). */
  async rsync(source: string, target: string): Promise<RsyncResult> {
    const start = performance.now();
    const stats = await run('rsync', [
      '--stats',
      '-e',
      ['ssh', ...this.sshArgs].join(' '),
      source,
      `${userInfo().username}@127.0.0.1:${target}`,
    ]);
    const ms = performance.now() - start;
    const literal = /Literal data: ([\d,.]+) bytes/.exec(stats)?.[1] ?? 'NaN';
    return { ms, literalBytes: Number(literal.replaceAll(/[,.]/g, '')) };
  }

  /** Stops sshd. */
  async stop(): Promise<void> {
    if (this.sshd.exitCode !== null) return;
    this.sshd.kill('SIGTERM');
    await new Promise((resolve) => this.sshd.once('exit', resolve));
  }

  #loginWorks(): Promise<boolean> {
    return run('ssh', [...this.sshArgs, `${userInfo().username}@127.0.0.1`, 'true']).then(
      () => true,
      () => false,
    );
  }
}

/** Installs openssh-server when sshd is missing and this is root; otherwise says how. */
async function ensureSshd(): Promise<void> {
  if (
    await access(SSHD).then(
      () => true,
      () => false,
    )
  )
    return;
  if (process.getuid?.() !== 0) {
    throw new Error(`${SSHD} is missing: run \`apt-get install -y openssh-server\` as root`);
  }
  await run('apt-get', ['install', '-y', 'openssh-server']);
}
