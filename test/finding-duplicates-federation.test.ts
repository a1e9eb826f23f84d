import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePortBlock, type TempDir, tempDir } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEV_PORT_SPAN,
  type DevFederation,
  startDev,
  vitrine,
  vitrineJson,
} from './cli-process.js';

interface Shown {
  finding: {
    id: string;
    status: string;
    effectiveStatus: string;
    duplicateOf: string | null;
    duplicates: string[];
  };
}

/** Asks `probe` every 100 ms until it answers, for up to 30 s; its last answer. */
async function eventually<T>(probe: () => Promise<T | undefined>): Promise<T | undefined> {
  for (let i = 0; i < 300; i++) {
    const answer = await probe();
    if (answer !== undefined) return answer;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

/**
 * Partners at two centers file the same issue; a third center links them. The link, and
 * the duplicate's status following its original, reach every center through real sync
 * processes, and an export at any center shows the link.
 */
describe('duplicates across a running federation', () => {
  let home: TempDir;
  let dev: DevFederation;
  const centers = ['asia', 'europe', 'us'] as const;
  const at = (center: string) => ['--data', home.path, '--center', center];
  let artifactId = '';

  beforeAll(async () => {
    home = await tempDir('vitrine-dup-');
    dev = await startDev(home.path, await freePortBlock(DEV_PORT_SPAN));
    const file = join(home.path, 'router-os.tar');
    await writeFile(
      file,
      new Uint8Array(200_000).map((_, i) => (i * 2654435761) >>> 24),
    );
    const pushed = await vitrineJson<{ artifact: { id: string } }>([
      'artifact',
      'push',
      file,
      ...at('europe'),
      '--kind',
      'source',
      '--product',
      'router-os',
      '--version',
      '4.2',
    ]);
    artifactId = pushed.artifact.id;
  });
  afterAll(async () => {
    if (dev?.child.exitCode === null) await dev.stop();
    await home?.cleanup();
  });

  const show = async (id: string, center: string) => {
    const run = await vitrine(['finding', 'show', id, ...at(center), '--json']);
    return run.code === 0 ? (JSON.parse(run.stdout) as Shown).finding : undefined;
  };

  it('links findings filed at asia and us at europe, and every center shows the link both ways', async () => {
    const available = async (center: string) => {
      const run = await vitrine(['artifact', 'show', artifactId, ...at(center), '--json']);
      return run.code === 0 && JSON.parse(run.stdout).artifact.state === 'available'
        ? true
        : undefined;
    };
    for (const center of ['asia', 'us'])
      expect(await eventually(() => available(center))).toBe(true);
    const file = async (center: string, title: string) =>
      (
        await vitrineJson<Shown>([
          'finding',
          'create',
          ...at(center),
          '--artifact',
          artifactId,
          '--title',
          title,
          '--severity',
          'high',
        ])
      ).finding.id;
    const original = await file('asia', 'Hard-coded credential in updater');
    const duplicate = await file('us', 'Updater ships a fixed password');
    for (const id of [original, duplicate])
      expect(await eventually(() => show(id, 'europe'))).toBeDefined();

    const linked = await vitrineJson<Shown>([
      'finding',
      'update',
      duplicate,
      ...at('europe'),
      '--duplicate-of',
      original,
    ]);
    expect(linked.finding).toMatchObject({ status: 'duplicate', duplicateOf: original });
    for (const center of centers) {
      const linkedThere = await eventually(async () => {
        const shown = await show(duplicate, center);
        return shown?.duplicateOf === original ? shown : undefined;
      });
      expect(linkedThere).toMatchObject({ status: 'duplicate', effectiveStatus: 'new' });
      expect((await show(original, center))?.duplicates).toEqual([duplicate]);
    }

    // The original moves on at its own center: the duplicate follows it everywhere.
    for (const status of ['triaged', 'in_progress']) {
      await vitrineJson(['finding', 'update', original, ...at('asia'), '--status', status]);
    }
    for (const center of centers) {
      const following = await eventually(async () => {
        const shown = await show(duplicate, center);
        return shown?.effectiveStatus === 'in_progress' ? shown : undefined;
      });
      expect(following).toMatchObject({ status: 'duplicate', duplicateOf: original });
    }

    const out = join(home.path, 'router-os.osv.json');
    await vitrineJson([
      'finding',
      'export',
      ...at('us'),
      '--format',
      'osv',
      '--product',
      'router-os',
      '-o',
      out,
    ]);
    const records = JSON.parse(await readFile(out, 'utf8')) as { id: string; related?: string[] }[];
    expect(records.map((r) => [r.id, r.related ?? []]).sort()).toEqual(
      [
        [`x_VITRINE-${duplicate}`, [`x_VITRINE-${original}`]],
        [`x_VITRINE-${original}`, []],
      ].sort(),
    );
  });
});
