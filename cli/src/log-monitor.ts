import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { bytesEqual, toHex } from '@vitrine/crypto';
import { SignedEventSchema } from '@vitrine/proto/event';
import {
  type Checkpoint,
  decodeEntryBundle,
  EMPTY_ROOT,
  hashChildren,
  hashLeaf,
  type NoteKey,
  openNote,
  parseCheckpoint,
  TILE_HEIGHT,
  TILE_WIDTH,
  tilePath,
} from '@vitrine/tlog';
import type { Command } from 'commander';
import { z } from 'zod';
import { CliError, EXIT_FAILURE, ReportedFailure, usageError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { checkEndpoint, resolveTarget, vitrineHome } from './endpoints.js';
import { EventChain } from './event-checks.js';
import { localVkeys } from './federation-commands.js';
import { originKey } from './log-events.js';
import { writeResult } from './output.js';
import { profileNameOf } from './profile.js';
import { runCommand } from './run-command.js';
import { addTargetOptions, collect, type TargetOptions } from './target-options.js';
import { type KeyFlags, trustedKeys } from './trusted-keys.js';

interface MonitorOptions extends TargetOptions, KeyFlags {
  readonly tiles?: string;
  readonly profile?: string;
}

/** One step of a monitor run, as `vitrine log verify` reports it. */
export interface MonitorStep {
  readonly step:
    | 'checkpoint'
    | 'since last seen'
    | 'entries'
    | 'hash tiles'
    | 'root'
    | 'consistency';
  readonly ok: boolean;
  readonly detail: string;
}

/** What a monitor keeps per log: the last checkpoint that verified in full. */
const seenSchema = z.record(
  z.string(),
  z.object({ size: z.number().int().nonnegative(), root: z.string(), checkpoint: z.string() }),
);
type Seen = z.infer<typeof seenSchema>;

/** Where the monitor keeps what it saw: in the profile's folder, 0600. */
export function monitorStatePath(home: string, profile: string): string {
  return join(home, 'profiles', profile, 'log-monitor.json');
}

/** `log verify`: a monitor of one center's log, from its public tiles. */
export function addLogVerify(parent: Command, io: CliIo): void {
  const verify = parent
    .command('verify')
    .description(
      'monitor a center’s log: fetch its checkpoint and tiles over HTTP, check every entry’s signature and chain link, recompute the root, and check it extends the last checkpoint this profile saw',
    )
    .option(
      '--tiles <url>',
      'read the tiles from here instead of the center (a mirror or cache of its /log/)',
    )
    .option('--vkey <vkey>', 'a trusted verifier key (repeat for several)', collect)
    .option(
      '--keys <file>',
      'the JSON `vitrine federation keys --json` prints (default: the federation manifest in the data folder, checked against its root key)',
    )
    .option(
      '--profile <name>',
      'keep what was seen in this profile’s folder (default: $VITRINE_PROFILE or operator)',
    );
  addTargetOptions(verify, 'read')
    .addHelpText(
      'after',
      `
Steps: checkpoint (signed by the center's key), since last seen (not smaller than the last
checkpoint this profile saw, nor another root for its size), entries (each leaf's signature
by the center, sequence and hash-chain link), hash tiles (each agrees with the entries),
root (the entries make the signed root), consistency (the tree seen last time is a prefix).
The checkpoint is remembered only when every step holds; exit 1 names the step that failed.
Examples:
  $ vitrine log verify --center europe
  $ vitrine log verify --center us --json`,
    )
    .action((options: MonitorOptions) =>
      runCommand(io, options.json === true, () => monitorLog(io, options)),
    );
}

async function monitorLog(io: CliIo, options: MonitorOptions): Promise<void> {
  const target = await resolveTarget(options, 'read', io.env, io.cwd);
  const center = target.center;
  if (center === undefined) throw usageError('name the log: --center <id> beside --endpoint');
  const base = `${(options.tiles === undefined ? `${target.url}/log` : checkEndpoint(options.tiles)).replace(/\/$/, '')}/`;
  const keys = await trustedKeys(io, options, () => localVkeys(io, options));
  const key = originKey(keys, center);
  const home = vitrineHome(options, io.env, io.cwd);
  const statePath = monitorStatePath(home, profileNameOf(options, io.env));
  const seen = await readSeen(statePath);
  const progress = (line: string) => {
    if (options.json !== true) io.stderr.write(`${line}\n`);
  };
  const run = new MonitorRun(base, key, center, seen[key.name], progress);
  const { steps, checkpoint } = await run.steps();
  const failed = steps.find((s) => !s.ok);
  if (failed === undefined && checkpoint !== undefined) {
    seen[key.name] = {
      size: checkpoint.cp.size,
      root: Buffer.from(checkpoint.cp.root).toString('base64'),
      checkpoint: checkpoint.note,
    };
    await writeSeen(statePath, seen);
  }
  writeResult(io, options.json === true, {
    json: () => ({
      center,
      origin: key.name,
      tiles: base,
      verified: failed === undefined,
      ...(checkpoint ? { size: checkpoint.cp.size } : {}),
      steps,
    }),
    human: () => [
      ...steps.map((s) => `${s.ok ? 'ok  ' : 'FAIL'}  ${s.step}: ${s.detail}`),
      failed === undefined
        ? `${key.name} verified at size ${checkpoint?.cp.size}`
        : `${key.name} not verified: ${failed.step} failed`,
    ],
  });
  if (failed !== undefined) throw new ReportedFailure(EXIT_FAILURE);
}

/** A step that failed: the walk stops there. */
class StepFailure extends Error {
  constructor(
    readonly step: MonitorStep['step'],
    message: string,
  ) {
    super(message);
  }
}

/**
 * One pass over a log's tiles. Entries are read one bundle at a time and folded into the
 * tree's right edge (one hash per level), so memory stays small at any size; the subtree
 * hashes the hash tiles hold are gathered per tile and compared as each tile completes.
 */
class MonitorRun {
  readonly #steps: MonitorStep[] = [];
  /** The complete subtrees on the tree's right edge, largest first. */
  readonly #edge: { level: number; hash: Uint8Array }[] = [];
  /** Per tile level: the hashes of the tile being filled, and its index. */
  readonly #pending = new Map<number, { index: number; hashes: Uint8Array[] }>();

  constructor(
    private readonly base: string,
    private readonly key: NoteKey,
    private readonly center: string,
    private readonly last: Seen[string] | undefined,
    private readonly progress: (line: string) => void,
  ) {}

  async steps(): Promise<{ steps: MonitorStep[]; checkpoint?: { cp: Checkpoint; note: string } }> {
    let checkpoint: { cp: Checkpoint; note: string } | undefined;
    try {
      checkpoint = await this.#checkpoint();
      this.#sinceLastSeen(checkpoint.cp);
      const rootAtLast = await this.#walk(checkpoint.cp.size);
      const root = this.#root();
      if (!bytesEqual(root, checkpoint.cp.root)) {
        throw new StepFailure(
          'root',
          `the entries make root ${b64(root)}, the checkpoint signs ${b64(checkpoint.cp.root)}`,
        );
      }
      this.#pass('root', `${checkpoint.cp.size} entries make the signed root ${b64(root)}`);
      this.#consistency(rootAtLast);
      return { steps: this.#steps, checkpoint };
    } catch (err) {
      if (!(err instanceof StepFailure)) throw err;
      this.#steps.push({ step: err.step, ok: false, detail: err.message });
      return { steps: this.#steps };
    }
  }

  #pass(step: MonitorStep['step'], detail: string): void {
    this.#steps.push({ step, ok: true, detail });
  }

  async #fetch(path: string, step: MonitorStep['step']): Promise<Uint8Array> {
    const url = new URL(path, this.base).toString();
    let res: Response;
    try {
      res = await fetch(url);
    } catch (err) {
      throw new CliError(
        'UNAVAILABLE',
        `cannot fetch ${url}: ${(err as Error).message} — is the center running?`,
      );
    }
    if (res.status !== 200) throw new StepFailure(step, `GET ${path} answered ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  }

  async #checkpoint(): Promise<{ cp: Checkpoint; note: string }> {
    const note = Buffer.from(await this.#fetch('checkpoint', 'checkpoint')).toString('utf8');
    try {
      const opened = await openNote(note, [this.key]);
      const cp = parseCheckpoint(opened.text);
      if (cp.origin !== this.key.name) {
        throw new Error(`checkpoint of ${cp.origin}, not ${this.key.name}`);
      }
      this.#pass('checkpoint', `${cp.origin} at size ${cp.size}, signed by ${this.key.name}`);
      return { cp, note };
    } catch (err) {
      throw new StepFailure('checkpoint', (err as Error).message);
    }
  }

  #sinceLastSeen(cp: Checkpoint): void {
    const last = this.last;
    if (last === undefined) {
      this.#pass('since last seen', 'nothing seen of this log before');
      return;
    }
    if (cp.size < last.size) {
      throw new StepFailure(
        'since last seen',
        `the log went back: size ${cp.size}, after a checkpoint of size ${last.size} was seen`,
      );
    }
    if (cp.size === last.size && b64(cp.root) !== last.root) {
      throw new StepFailure(
        'since last seen',
        `two roots for size ${cp.size}: ${b64(cp.root)} now, ${last.root} seen before (a fork)`,
      );
    }
    this.#pass('since last seen', `size ${cp.size}, last seen ${last.size}`);
  }

  /** Reads every entry bundle; returns the root at the last seen size, when there was one. */
  async #walk(size: number): Promise<Uint8Array | undefined> {
    const chain = new EventChain(this.center, this.key.publicKey);
    let rootAtLast = this.last?.size === 0 ? EMPTY_ROOT : undefined;
    let count = 0;
    for (let index = 0; index * TILE_WIDTH < size; index++) {
      const width = Math.min(TILE_WIDTH, size - index * TILE_WIDTH);
      const path = tilePath({ level: 'entries', index, width });
      const bundle = await this.#fetch(path, 'entries');
      let entries: Uint8Array[];
      try {
        entries = decodeEntryBundle(bundle);
      } catch (err) {
        throw new StepFailure('entries', `${path}: ${(err as Error).message}`);
      }
      if (entries.length !== width) {
        throw new StepFailure('entries', `${path} holds ${entries.length} entries, not ${width}`);
      }
      for (const entry of entries) {
        await this.#entry(entry, count, chain);
        count++;
        await this.#addLeaf(hashLeaf(entry));
        if (this.last !== undefined && count === this.last.size) rootAtLast = this.#root();
      }
      this.progress(`${this.key.name}: ${count} of ${size} entries checked`);
    }
    this.#pass(
      'entries',
      `${size} entries, each signed by ${this.key.name}, in sequence, each linked to the one before`,
    );
    for (const [level, tile] of this.#pending) {
      if (tile.hashes.length > 0) await this.#compareTile(level, tile.index, tile.hashes);
    }
    this.#pass('hash tiles', 'every hash tile agrees with the entries');
    return rootAtLast;
  }

  async #entry(entry: Uint8Array, index: number, chain: EventChain): Promise<void> {
    const where = `entry ${index}`;
    let signed: { header: Uint8Array; signature: Uint8Array; body: Uint8Array };
    try {
      signed = fromBinary(SignedEventSchema, entry);
    } catch (err) {
      throw new StepFailure('entries', `${where} does not decode: ${(err as Error).message}`);
    }
    const exact = toBinary(
      SignedEventSchema,
      create(SignedEventSchema, { header: signed.header, signature: signed.signature }),
    );
    if (!bytesEqual(exact, entry)) {
      throw new StepFailure('entries', `${where} is not a signed header alone, exactly encoded`);
    }
    const checked = await chain.check(signed);
    if (checked.seq !== index + 1) {
      throw new StepFailure('entries', `${where} is event ${checked.seq}, not ${index + 1}`);
    }
    if (checked.problems.length > 0) {
      throw new StepFailure(
        'entries',
        `${where} (event ${checked.seq}): ${checked.problems.join('; ')}`,
      );
    }
  }

  async #addLeaf(hash: Uint8Array): Promise<void> {
    await this.#record(0, hash);
    this.#edge.push({ level: 0, hash });
    for (;;) {
      const right = this.#edge.at(-1);
      const left = this.#edge.at(-2);
      if (right === undefined || left === undefined || left.level !== right.level) break;
      this.#edge.splice(-2, 2, {
        level: left.level + 1,
        hash: hashChildren(left.hash, right.hash),
      });
      const level = left.level + 1;
      if (level % TILE_HEIGHT === 0) {
        await this.#record(level / TILE_HEIGHT, this.#edge.at(-1)?.hash as Uint8Array);
      }
    }
  }

  /** Notes a hash a tile of `level` holds; a full tile is fetched and compared at once. */
  async #record(level: number, hash: Uint8Array): Promise<void> {
    const tile = this.#pending.get(level) ?? { index: 0, hashes: [] };
    this.#pending.set(level, tile);
    tile.hashes.push(hash);
    if (tile.hashes.length === TILE_WIDTH) {
      await this.#compareTile(level, tile.index, tile.hashes);
      tile.index++;
      tile.hashes = [];
    }
  }

  async #compareTile(level: number, index: number, hashes: readonly Uint8Array[]): Promise<void> {
    const path = tilePath({ level, index, width: hashes.length });
    const tile = await this.#fetch(path, 'hash tiles');
    if (tile.length !== hashes.length * 32) {
      throw new StepFailure(
        'hash tiles',
        `${path} is ${tile.length} bytes, not ${hashes.length * 32}`,
      );
    }
    for (const [i, hash] of hashes.entries()) {
      if (!bytesEqual(tile.subarray(i * 32, i * 32 + 32), hash)) {
        throw new StepFailure(
          'hash tiles',
          `${path} hash ${i} is ${toHex(tile.subarray(i * 32, i * 32 + 32))}; the entries make ${toHex(hash)}`,
        );
      }
    }
  }

  /** The root of the leaves added so far: the right edge folded from the right. */
  #root(): Uint8Array {
    let root: Uint8Array | undefined;
    for (let i = this.#edge.length - 1; i >= 0; i--) {
      const node = this.#edge[i]?.hash as Uint8Array;
      root = root === undefined ? node : hashChildren(node, root);
    }
    return root ?? EMPTY_ROOT;
  }

  #consistency(rootAtLast: Uint8Array | undefined): void {
    const last = this.last;
    if (last === undefined) {
      this.#pass('consistency', 'nothing seen before to be consistent with');
      return;
    }
    if (rootAtLast === undefined || b64(rootAtLast) !== last.root) {
      throw new StepFailure(
        'consistency',
        `the first ${last.size} entries make root ${rootAtLast ? b64(rootAtLast) : '(none)'}, not the ${last.root} seen before`,
      );
    }
    this.#pass('consistency', `the tree of ${last.size} seen before is a prefix of this one`);
  }
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

async function readSeen(path: string): Promise<Seen> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError('IO', `cannot read ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const parsed = seenSchema.safeParse(raw);
  if (!parsed.success) {
    throw new CliError(
      'CONFIG',
      `${path} is not what vitrine log verify keeps: remove it to start over`,
    );
  }
  return parsed.data;
}

async function writeSeen(path: string, seen: Seen): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  const temp = `${path}.tmp`;
  await writeFile(temp, `${JSON.stringify(seen, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
}
