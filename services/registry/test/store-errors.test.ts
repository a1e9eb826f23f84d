import { chmod, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { grpcCodeOf, testBackends } from '@vitrine/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomContent, startTestRegistry, type TestRegistry, uploadOf } from './harness.js';

// A chunk store the registry cannot write to: the caller learns that much, the operator
// learns where and why from the log. Storage-independent, so one backend is enough.
const [pglite] = testBackends();

/**
 * Makes the store's pack folder refuse new files: by its permissions, or, for root, which
 * they do not stop, by putting a sysfs folder in its place (sysfs refuses new files even
 * to root, with EACCES).
 */
async function refuseWrites(packs: string): Promise<void> {
  if (process.getuid?.() !== 0) return chmod(packs, 0o500);
  await rm(packs, { recursive: true });
  await symlink('/sys/kernel', packs);
}

describe('a registry whose chunk store cannot be written', () => {
  let t: TestRegistry;
  const logged: string[] = [];
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logged.push(String(chunk));
        done();
      },
    });
    t = await startTestRegistry(pglite as NonNullable<typeof pglite>, {}, { logger: pino(sink) });
    await refuseWrites(join(t.dataDir, 'chunks', 'packs'));
  });
  afterAll(() => t.cleanup());

  it('refuses a push as UNAVAILABLE "chunk store not writable", naming the file only in its log', async () => {
    const push = t.client.pushArtifact(
      uploadOf({ kind: ArtifactKind.SOURCE, product: 'agent', version: '1' }, randomContent(4096)),
    );
    expect(await grpcCodeOf(push)).toBe('UNAVAILABLE');
    const err = await t.client
      .pushArtifact(
        uploadOf({ kind: ArtifactKind.SOURCE, product: 'agent', version: '2' }, randomContent(99)),
      )
      .catch((e: { rawMessage: string }) => e);
    expect((err as { rawMessage: string }).rawMessage).toMatch(
      /^chunk store not writable \(EACCES\): the center cannot store artifact bytes/,
    );
    expect(JSON.stringify(err)).not.toContain(t.dataDir);
    const warning = logged.map((line) => JSON.parse(line)).find((l) => l.msg === 'rpc failed');
    expect(warning?.err?.message).toMatch(/chunk store not writable \(EACCES\)/);
    expect(warning?.err?.message).toMatch(/EACCES: permission denied, open '.*\.pack'/);
    const { artifacts } = await t.client.listArtifacts({});
    expect(artifacts).toEqual([]);
  });
});
