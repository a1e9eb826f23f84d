import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { Chunker } from '@vitrine/chunks';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { PushArtifactRequestSchema } from '@vitrine/proto/registry';
import { alterStoredBytes } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';
import { CapturedStream } from './run-cli.js';
import { startTestCenter, type TestCenter } from './test-center.js';

/** Ids share a first hex digit one time in 16: enough pushes make two share four. */
const MAX_PUSHES_FOR_A_SHARED_PREFIX = 5000;
/** The registry's limit on one upload message. */
const MESSAGE_BYTES = 1024 * 1024;

describe('short artifact ids and pull -o against a real registry', () => {
  let center: TestCenter;
  // Several 1 MiB download messages, so a failure can come after bytes were written.
  const content = randomBytes(3 * 1024 * 1024 + 4321);
  let sourceId = '';
  let updateId = '';
  const files = async () => (await readdir(center.dir.path)).sort();

  /** Publishes `bytes` through the registry client (setup, not the CLI under test). */
  async function publish(kind: ArtifactKind, version: string, bytes: Uint8Array) {
    async function* requests() {
      yield create(PushArtifactRequestSchema, {
        part: { case: 'metadata', value: { kind, product: 'router-os', version } },
      });
      for (let at = 0; at < bytes.length; at += MESSAGE_BYTES) {
        const value = bytes.subarray(at, at + MESSAGE_BYTES);
        yield create(PushArtifactRequestSchema, { part: { case: 'data', value } });
      }
    }
    const response = await center.client.pushArtifact(requests());
    return response.artifact?.id ?? '';
  }

  /** Four hex digits no artifact at the center starts with. */
  async function unusedPrefix(): Promise<string> {
    const ids = (await center.client.listArtifacts({ pageSize: 1000 })).artifacts.map((a) => a.id);
    for (let n = 0; ; n++) {
      const prefix = n.toString(16).padStart(4, '0');
      if (!ids.some((id) => id.startsWith(prefix))) return prefix;
    }
  }

  beforeAll(async () => {
    center = await startTestCenter('vitrine-cli-ids-');
    sourceId = await publish(ArtifactKind.SOURCE, '4.2', content);
    await writeFile(join(center.dir.path, 'router-os-4.2.1.bin'), randomBytes(10_000));
  });
  afterAll(() => center?.stop());

  it('shows and pulls an artifact by a unique prefix of 4 or more digits, in either case', async () => {
    const shown = await center.cli('artifact', 'show', sourceId.slice(0, 4), '--json');
    expect(shown.code).toBe(0);
    expect(shown.json()).toMatchObject({ artifact: { id: sourceId } });
    const upper = await center.cli('artifact', 'show', sourceId.slice(0, 12).toUpperCase());
    expect(upper.stdout).toContain(`id:         ${sourceId}\n`);
    const pulled = await center.cli('artifact', 'pull', sourceId.slice(0, 7), '-o', 'copy.tar');
    expect(pulled.code).toBe(0);
    expect(Buffer.compare(await readFile(join(center.dir.path, 'copy.tar')), content)).toBe(0);
  });

  it('takes prefixes in push --supersedes, finding create --artifact, update --fix and ls --artifact', async () => {
    const pushed = await center.cli(
      'artifact',
      'push',
      'router-os-4.2.1.bin',
      '--center',
      'europe',
      '--kind',
      'update',
      '--product',
      'router-os',
      '--version',
      '4.2.1',
      '--supersedes',
      sourceId.slice(0, 6),
      '--json',
    );
    expect(pushed.code).toBe(0);
    const { artifact } = pushed.json() as { artifact: { id: string; supersedes: string } };
    updateId = artifact.id;
    expect(artifact.supersedes).toBe(sourceId);

    const created = await center.cli(
      'finding',
      'create',
      '--center',
      'europe',
      '--artifact',
      sourceId.slice(0, 5),
      '--title',
      'Hard-coded key',
      '--severity',
      'high',
      '--json',
    );
    expect(created.code).toBe(0);
    const { finding } = created.json() as { finding: { id: string; artifactIds: string[] } };
    expect(finding.artifactIds).toEqual([sourceId]);
    for (const status of ['triaged', 'in_progress']) {
      const moved = await center.cli(
        'finding',
        'update',
        finding.id,
        '--center',
        'europe',
        '--status',
        status,
      );
      expect(moved.code).toBe(0);
    }
    const fixed = await center.cli(
      'finding',
      'update',
      finding.id,
      '--center',
      'europe',
      '--status',
      'fixed',
      '--fix',
      updateId.slice(0, 8),
      '--json',
    );
    expect(fixed.code).toBe(0);
    expect(fixed.json()).toMatchObject({ finding: { status: 'fixed', fixArtifactId: updateId } });

    const listed = await center.cli('finding', 'ls', '--artifact', sourceId.slice(0, 9), '--json');
    expect(listed.json()).toEqual({ findings: [expect.objectContaining({ id: finding.id })] });
  });

  it('says when a prefix matches nothing: NOT_FOUND, exit 1, nothing recorded or written', async () => {
    const prefix = await unusedPrefix();
    const message = `no artifact at europe has an id starting ${prefix}`;
    const shown = await center.cli('artifact', 'show', prefix);
    expect(shown.code).toBe(1);
    expect(shown.stderr).toBe(`vitrine: ${message} (NOT_FOUND)\n`);
    const before = await center.cli('finding', 'ls', '--json');
    const created = await center.cli(
      'finding',
      'create',
      '--center',
      'europe',
      '--artifact',
      sourceId,
      '--artifact',
      prefix,
      '--title',
      'x',
      '--severity',
      'low',
      '--json',
    );
    expect(created.code).toBe(1);
    expect(created.json()).toEqual({ error: { code: 'NOT_FOUND', message } });
    expect((await center.cli('finding', 'ls', '--json')).json()).toEqual(before.json());
    const pulled = await center.cli('artifact', 'pull', prefix, '-o', 'nothing.bin');
    expect(pulled.code).toBe(1);
    expect(await files()).not.toContain('nothing.bin');
  });

  it('pull --force replaces a file; a pull failing mid-stream keeps it and leaves no partial file', async () => {
    const target = join(center.dir.path, 'kept.tar');
    await writeFile(target, 'earlier download');
    const forced = await center.cli('artifact', 'pull', sourceId, '-o', 'kept.tar', '--force');
    expect(forced.code).toBe(0);
    expect(Buffer.compare(await readFile(target), content)).toBe(0);

    await writeFile(target, 'earlier download');
    const chunker = new Chunker();
    const chunks = [...chunker.push(content), ...chunker.finish()];
    const last = chunks.at(-1) ?? new Uint8Array();
    const restore = await alterStoredBytes(join(center.dir.path, 'registry', 'chunks'), last);
    try {
      const failed = await center.cli('artifact', 'pull', sourceId, '-o', 'kept.tar', '-f');
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/\(DATA_LOSS\)\n$/);
    } finally {
      await restore();
    }
    expect(await readFile(target, 'utf8')).toBe('earlier download');
    expect((await files()).filter((name) => name.endsWith('.partial'))).toEqual([]);
  });

  it('keeps a file that appears while the pull runs (no --force)', async () => {
    const target = join(center.dir.path, 'raced.tar');
    // stderr is a terminal, so the progress bar is drawn once the download starts: the
    // moment another program creates the file, after the up-front check.
    const stderr = new (class extends CapturedStream {
      override _write(chunk: Buffer | string, encoding: BufferEncoding, done: () => void) {
        if (String(chunk).includes('pulling'))
          writeFileSync(target, 'written meanwhile', { flag: 'a' });
        super._write(chunk, encoding, done);
      }
    })();
    stderr.isTTY = true;
    const io = { stdout: new CapturedStream(), stderr, isTTY: true, env: {}, cwd: center.dir.path };
    const code = await main(
      ['node', 'vitrine', 'artifact', 'pull', sourceId, '-o', 'raced.tar'],
      io,
    );
    expect(code).toBe(2);
    expect(stderr.text).toContain(
      `vitrine: ${target} already exists; pass --force to replace it (USAGE)\n`,
    );
    expect(await readFile(target, 'utf8')).toMatch(/^(written meanwhile)+$/);
    expect((await files()).filter((name) => name.endsWith('.partial'))).toEqual([]);
  });

  it('lists the candidates of an ambiguous prefix (USAGE, exit 2) and resolves with more digits', async () => {
    const byPrefix = new Map<string, string>();
    let pair: [string, string] | undefined;
    for (let n = 0; pair === undefined && n < MAX_PUSHES_FOR_A_SHARED_PREFIX; n++) {
      const id = await publish(ArtifactKind.RULES, `2025.${n}`, Buffer.from('rules'));
      const earlier = byPrefix.get(id.slice(0, 4));
      if (earlier !== undefined) pair = [earlier, id];
      byPrefix.set(id.slice(0, 4), id);
    }
    if (pair === undefined) throw new Error('no two ids shared four leading digits');
    const [older, newer] = pair;
    const prefix = older.slice(0, 4);

    const shown = await center.cli('artifact', 'show', prefix);
    expect(shown.code).toBe(2);
    expect(shown.stderr).toMatch(
      new RegExp(
        `^vitrine: artifact id ${prefix} is ambiguous at europe, give more digits: it starts ${newer} \\(rules router-os 2025\\.\\d+\\); ${older} \\(rules router-os 2025\\.\\d+\\) \\(USAGE\\)\\n$`,
      ),
    );
    const pulled = await center.cli('artifact', 'pull', prefix, '-o', 'which.bin', '--json');
    expect(pulled.code).toBe(2);
    expect(pulled.json()).toMatchObject({ error: { code: 'USAGE' } });
    expect(await files()).not.toContain('which.bin');

    let common = 4;
    while (older[common] === newer[common]) common++;
    const longer = await center.cli('artifact', 'show', older.slice(0, common + 1), '--json');
    expect(longer.json()).toMatchObject({ artifact: { id: older } });
  });
});
