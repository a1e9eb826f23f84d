import { Writable } from 'node:stream';
import type { CliIo } from '../src/index.js';
import { main } from '../src/index.js';

/** A Writable that keeps everything written to it, as text. */
export class CapturedStream extends Writable {
  readonly chunks: Buffer[] = [];
  /** Set to make libraries that check `stream.isTTY` (cli-progress) treat it as a terminal. */
  isTTY = false;
  columns = 120;

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    done();
  }

  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  get text(): string {
    return this.bytes.toString('utf8');
  }
}

/** What one CLI run produced. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutBytes: Buffer;
  /** stdout parsed as the one JSON document `--json` promises. */
  json(): unknown;
}

/** How to run: working folder, environment, and whether stderr is a terminal. */
export interface RunSettings {
  readonly cwd?: string;
  readonly env?: Record<string, string | undefined>;
  readonly isTTY?: boolean;
}

/** Runs `vitrine <args>` in-process over captured streams, the way the executable would. */
export async function runCli(args: readonly string[], settings: RunSettings = {}): Promise<CliRun> {
  const stdout = new CapturedStream();
  const stderr = new CapturedStream();
  stderr.isTTY = settings.isTTY === true;
  const io: CliIo = {
    stdout,
    stderr,
    isTTY: settings.isTTY === true,
    env: settings.env ?? {},
    cwd: settings.cwd ?? process.cwd(),
  };
  const code = await main(['node', 'vitrine', ...args], io);
  return {
    code,
    stdout: stdout.text,
    stderr: stderr.text,
    stdoutBytes: stdout.bytes,
    json: () => JSON.parse(stdout.text) as unknown,
  };
}

/** A federation file as `vitrine dev` writes it, with the given registry URLs per center. */
export function federationFile(registries: Record<'asia' | 'europe' | 'us', string>) {
  return {
    version: 1,
    access: { id: 'access', url: 'http://127.0.0.1:7400' },
    centers: [
      {
        id: 'asia',
        jurisdiction: 'APAC',
        registry: registries.asia,
        sync: 'http://127.0.0.1:7411',
      },
      {
        id: 'europe',
        jurisdiction: 'EU',
        registry: registries.europe,
        sync: 'http://127.0.0.1:7421',
      },
      { id: 'us', jurisdiction: 'US', registry: registries.us, sync: 'http://127.0.0.1:7431' },
    ],
  };
}
