import { readFile, stat, writeFile } from 'node:fs/promises';
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

interface Step {
  step: string;
  ok: boolean;
}

/**
 * A partner's changes at a running federation, proven offline: the partner lists the events
 * its credential covers, fetches receipts for its finding, its comment and its own recorded
 * access, and checks them with nothing but the vkeys; any center serves a receipt for
 * another's event against that origin's checkpoint; a monitor checks a log from its tiles.
 */
describe('partner receipts at a running federation', () => {
  let home: TempDir;
  let dev: DevFederation;
  let keysFile = '';
  let agent = '';
  let router = '';
  let findingId = '';
  const at = (center: string) => ['--data', home.path, '--center', center];
  const as = () => ['--data', home.path, '--profile', 'regulator'];

  /** Runs a command until it exits 0 (a checkpoint may take a few seconds to reach a peer). */
  async function eventually(args: string[]): Promise<Awaited<ReturnType<typeof vitrine>>> {
    let run = await vitrine(args);
    // Every 200 ms for up to 30 s: a checkpoint reaches a peer within ~1 s (1 s cadence).
    for (let i = 0; i < 150 && run.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      run = await vitrine(args);
    }
    return run;
  }

  beforeAll(async () => {
    home = await tempDir('vitrine-partner-receipts-');
    dev = await startDev(home.path, await freePortBlock(DEV_PORT_SPAN));
    const push = async (product: string) => {
      const file = join(home.path, `${product}.tar`);
      await writeFile(file, `${product} source `.repeat(5_000));
      const pushed = await vitrineJson<{ artifact: { id: string } }>([
        'artifact',
        'push',
        file,
        ...at('europe'),
        '--kind',
        'source',
        '--product',
        product,
        '--version',
        '1',
      ]);
      return pushed.artifact.id;
    };
    agent = await push('agent');
    router = await push('router');
    await vitrineJson([
      'partner',
      'register',
      ...as(),
      '--org',
      'EU Regulator',
      '--jurisdiction',
      'EU',
      '--contact',
      'sec@regulator.example',
    ]);
    const asked = await vitrineJson<{ request: { id: string } }>([
      'access',
      'request',
      ...as(),
      '--jurisdiction',
      'EU',
      '--kind',
      'source',
      '--product',
      'agent',
      '--action',
      'read',
      'review',
      'comment',
      '--for',
      '2h',
      '--justification',
      'certification',
    ]);
    await vitrineJson([
      'access',
      'approve',
      asked.request.id,
      '--data',
      home.path,
      '--reason',
      'ok',
    ]);
    await vitrineJson(['access', 'show', asked.request.id, ...as()]);
    const keys = await vitrine(['federation', 'keys', '--data', home.path, '--json']);
    keysFile = join(home.path, 'keys.json');
    await writeFile(keysFile, keys.stdout);
  });
  afterAll(async () => {
    if (dev?.child.exitCode === null) await dev.stop();
    await home?.cleanup();
  });

  it('records a partner’s finding and comment, and proves each offline', async () => {
    const created = await vitrineJson<{ finding: { id: string } }>([
      'finding',
      'create',
      ...as(),
      '--center',
      'europe',
      '--artifact',
      agent,
      '--title',
      'Hard-coded credential',
      '--severity',
      'high',
    ]);
    findingId = created.finding.id;
    await vitrineJson([
      'finding',
      'comment',
      findingId,
      ...as(),
      '--center',
      'europe',
      '--text',
      'Reproduced',
    ]);
    const receipt = join(home.path, 'comment.tlog-proof');
    const wrote = await eventually([
      'finding',
      'receipt',
      findingId,
      ...as(),
      '--center',
      'europe',
      '-o',
      receipt,
      '--json',
    ]);
    expect(wrote.code).toBe(0);
    expect(JSON.parse(wrote.stdout)).toMatchObject({ change: `commentAdded ${findingId}` });
    const verified = await vitrine(['verify', 'receipt', receipt, '--keys', keysFile, '--json']);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({
      verified: true,
      event: {
        origin: 'europe',
        change: `commentAdded ${findingId}`,
        actor: expect.stringMatching(/^partner:/),
      },
    });
  });

  it('lists the partner only the events its credential covers, each checked', async () => {
    await vitrineJson(['artifact', 'show', agent, ...as(), '--center', 'europe']);
    const listed = await vitrineJson<{
      verified: boolean;
      events: { seq: number; change: string; actor?: string }[];
    }>(['log', 'events', ...as(), '--center', 'europe']);
    expect(listed.verified).toBe(true);
    const changes = listed.events.map((e) => e.change);
    expect(changes).toContain(`artifactPublished ${agent}`);
    expect(changes).toContain(`findingCreated ${findingId}`);
    expect(changes).toContain(`commentAdded ${findingId}`);
    expect(changes.join('\n')).not.toContain(router);
    const accesses = listed.events.filter((e) => e.change.startsWith('accessUsed'));
    // Only its own calls are shown: every record names the partner that made the finding.
    const partner = listed.events.find((e) => e.change === `findingCreated ${findingId}`)?.actor;
    expect(partner).toMatch(/^partner:/);
    expect(accesses.length).toBeGreaterThan(0);
    expect(accesses.every((e) => e.change.endsWith(`by ${partner}`))).toBe(true);
    // A receipt for one of its own recorded accesses: reading the agent artifact.
    const access = accesses.find((e) => e.change.startsWith('accessUsed GetArtifact'));
    expect(access).toBeDefined();
    const receipt = join(home.path, 'access.tlog-proof');
    const wrote = await eventually([
      'artifact',
      'receipt',
      agent,
      ...as(),
      '--center',
      'europe',
      '--event',
      `europe/${access?.seq}`,
      '-o',
      receipt,
    ]);
    expect(wrote.code).toBe(0);
    expect((await vitrine(['verify', 'receipt', receipt, '--keys', keysFile])).code).toBe(0);
    // Outside the scope, a receipt is not found, as for an artifact that does not exist.
    const hidden = await vitrine(['artifact', 'receipt', router, ...as(), '--center', 'europe']);
    const missing = await vitrine([
      'artifact',
      'receipt',
      'f'.repeat(64),
      ...as(),
      '--center',
      'europe',
    ]);
    expect(hidden.code).toBe(1);
    expect(hidden.stderr.replace(router, '<id>')).toBe(
      missing.stderr.replace('f'.repeat(64), '<id>'),
    );
  });

  it('serves a receipt for europe’s event at us, against europe’s checkpoint', async () => {
    const receipt = join(home.path, 'agent-at-us.tlog-proof');
    const wrote = await eventually([
      'artifact',
      'receipt',
      agent,
      ...at('us'),
      '-o',
      receipt,
      '--json',
    ]);
    expect(wrote.code).toBe(0);
    expect(JSON.parse(wrote.stdout)).toMatchObject({ center: 'us', origin: 'europe' });
    const copy = join(home.path, 'agent.tar');
    const checked = await vitrine([
      'verify',
      'artifact',
      copy,
      '--receipt',
      receipt,
      '--keys',
      keysFile,
      '--json',
    ]);
    expect(checked.code).toBe(0);
    const report = JSON.parse(checked.stdout) as { id: string; steps: Step[] };
    expect(report.id).toBe(agent);
    expect(report.steps.every((s) => s.ok)).toBe(true);
  });

  it('monitors a center’s log from its tiles with the keys of the federation manifest', async () => {
    const run = await vitrine(['log', 'verify', ...at('europe'), '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ verified: true, origin: 'vitrine-dev/europe' });
    const state = join(home.path, 'profiles', 'operator', 'log-monitor.json');
    expect((await stat(state)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(state, 'utf8'))['vitrine-dev/europe'].size).toBeGreaterThan(3);
  });
});
