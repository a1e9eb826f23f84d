import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TempDir, tempDir } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../services/sync/test/federation-harness.js';
import { vitrine, vitrineJson } from '../cli-process.js';
import { CENTERS, type CenterHost, runRunbook, type Served, serve, stop } from '../runbook.js';
import { createHostRig, type HostRig, hostRigUnavailable, type RigHost } from './host-rig.js';
import { connectRoundTripMs, linkStats, qdiscOf, syncCallFrom } from './rig-probes.js';
import { EMULATOR_DEVICE } from './wan-conditions.js';

/** One-way delay each host's link adds: a round trip between two hosts is the sum of theirs. */
const HOSTS = [
  { name: 'access', delayMs: 10 },
  { name: 'asia', delayMs: 30 },
  { name: 'europe', delayMs: 10 },
  { name: 'us', delayMs: 20 },
] as const;
const ACCESS_PORT = 7400;
const REGISTRY_PORT = 7410;
const SYNC_PORT = 7411;

const unavailable = await hostRigUnavailable();
if (unavailable !== undefined)
  console.warn(`three hosts in network namespaces skipped: ${unavailable}`);

/**
 * docs/deployment.md for real: access and the three centers each on its own host, a network
 * namespace on a bridge with WAN delay and loss (tc netem), mutual TLS between centers;
 * the operator and the partner work from the access host. The walk-through: push at
 * europe, replication to us (not asia: residency), partner access approved and used at us,
 * revocation refusing the next read.
 */
describe.skipIf(unavailable !== undefined)('three center hosts and an access host on a WAN', () => {
  let rig: HostRig;
  let dir: TempDir;
  const running: Served[] = [];
  const p = (...parts: string[]) => join(dir.path, ...parts);
  const client = () => rig.host('access').netns;
  const operator = () => ['--data', p('alice')];
  const partner = () => ['--data', p('alice'), '--profile', 'regulator'];
  // Random, so that no compression on the way can make it smaller than it is.
  const content = randomBytes(2 * 1024 * 1024 + 5);
  let artifactId = '';
  let credentialId = '';

  beforeAll(async () => {
    rig = await createHostRig(HOSTS);
    if (rig.wan.by === 'emulator') console.warn(`WAN by the emulator: ${rig.wan.noNetem}`);
    if (rig.wan.by === 'none') console.warn(`no WAN conditions: ${rig.wan.reason}`);
    dir = await tempDir('vitrine-hosts-');
  });
  afterAll(async () => {
    for (const s of running.reverse()) await stop(s);
    await rig?.destroy();
    await dir?.cleanup();
  });

  it('puts each host on its own network, WAN delay and loss on its link', async () => {
    expect([...rig.hosts.values()].map((h) => h.address)).toEqual([
      '198.18.1.10',
      '198.18.2.10',
      '198.18.3.10',
      '198.18.4.10',
    ]);
    for (const h of rig.hosts.values()) {
      const qdisc = await qdiscOf(h.netns);
      if (rig.wan.by === 'netem') {
        expect(qdisc).toMatch(new RegExp(`qdisc netem .* delay ${h.delayMs}ms loss 1%`));
      } else {
        expect(qdisc).not.toContain('netem');
      }
    }
    if (rig.wan.by === 'emulator') {
      expect((await linkStats(rig.router, EMULATOR_DEVICE)).rx.packets).toBe(0);
    }
  });

  it('sets up every host with the runbook, each center listening on its own address', async () => {
    const center = (h: RigHost): CenterHost => ({
      registry: `http://${h.address}:${REGISTRY_PORT}`,
      sync: `https://${h.address}:${SYNC_PORT}`,
      registryListen: `${h.address}:${REGISTRY_PORT}`,
      syncListen: `${h.address}:${SYNC_PORT}`,
      addresses: [h.address],
    });
    const access = rig.host('access').address;
    const result = await runRunbook(dir.path, {
      access: { url: `http://${access}:${ACCESS_PORT}`, listen: `${access}:${ACCESS_PORT}` },
      centers: {
        asia: center(rig.host('asia')),
        europe: center(rig.host('europe')),
        us: center(rig.host('us')),
      },
    });
    expect(result.signedCenters).toEqual(['asia', 'europe', 'us']);
    expect(result.tls).toEqual([true, true, true]);
  });

  it('serves access and each center inside its own namespace', async () => {
    // All four at once, as hosts boot: a center follows the access service once it answers.
    const started = await Promise.allSettled([
      serve('access', p('access.json'), client()),
      ...CENTERS.map((c) => serve('center', p(`${c.id}.json`), rig.host(c.id).netns)),
    ]);
    for (const s of started) if (s.status === 'fulfilled') running.push(s.value);
    const centers = started.slice(1).map((s) => (s.status === 'fulfilled' ? s.value : undefined));
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    for (const [i, c] of CENTERS.entries()) {
      expect(centers[i]?.ready).toMatchObject({
        service: 'center',
        center: c.id,
        registry: `http://${rig.host(c.id).address}:${REGISTRY_PORT}`,
      });
    }
  });

  it('takes at least the configured delays for a round trip between two hosts', async (ctx) => {
    if (rig.wan.by === 'none') return ctx.skip(rig.wan.reason);
    for (const [from, to] of [
      ['access', 'us'],
      ['europe', 'us'],
      ['asia', 'europe'],
    ] as const) {
      const a = rig.host(from);
      const b = rig.host(to);
      const rtts = [];
      for (let i = 0; i < 3; i++) {
        rtts.push(await connectRoundTripMs(a.netns, b.address, REGISTRY_PORT));
      }
      const configured = a.delayMs + b.delayMs;
      console.info(
        `${from} → ${to}: round trips ${rtts.join(', ')} ms; configured ${configured} ms`,
      );
      expect(Math.min(...rtts)).toBeGreaterThanOrEqual(configured);
    }
  });

  it('takes only callers with a federation certificate on a sync port across the WAN', async () => {
    const us = `https://${rig.host('us').address}:${SYNC_PORT}`;
    const [anonymous, member] = await Promise.all([
      syncCallFrom(client(), us, p('ca.pem')),
      syncCallFrom(client(), us, p('ca.pem'), [p('asia.pem'), p('asia-key.pem')]),
    ]);
    expect(anonymous).toMatch(/certificate|socket|ECONNRESET|closed/i);
    expect(member).toBe('answered');
  });

  it('replicates an artifact pushed at europe to us over the WAN, not to asia', async () => {
    const file = p('firmware.bin');
    await writeFile(file, content);
    const before = await linkStats(rig.host('us').netns);
    const pushed = await vitrineJson<{ artifact: { id: string } }>(
      [
        ...['artifact', 'push', file, ...operator(), '--center', 'europe', '--kind', 'source'],
        ...['--product', 'router-os', '--version', '1.0', '--residency', 'EU,US'],
      ],
      client(),
    );
    artifactId = pushed.artifact.id;
    await eventually(async () => {
      const shown = await vitrineJson<{ artifact: { state: string } }>(
        ['artifact', 'show', artifactId, ...operator(), '--center', 'us'],
        client(),
      );
      return shown.artifact.state === 'available' ? true : undefined;
    }, 90_000);
    // The bytes reached us through its link on the bridge, not over loopback.
    const after = await linkStats(rig.host('us').netns);
    expect(after.rx.bytes - before.rx.bytes).toBeGreaterThan(content.length);
    // …and the WAN dropped some packets on the way.
    if (rig.wan.by === 'netem') {
      expect(await qdiscOf(rig.host('europe').netns)).toMatch(/dropped [1-9]/);
    } else if (rig.wan.by === 'emulator') {
      const emulated = await linkStats(rig.router, EMULATOR_DEVICE);
      expect(emulated.rx.packets).toBeGreaterThan(content.length / 1500);
      expect(rig.wan.dropped()).toBeGreaterThan(0);
    }
    const asia = await vitrine(
      ['artifact', 'show', artifactId, ...operator(), '--center', 'asia', '--json'],
      {},
      client(),
    );
    expect(JSON.parse(asia.stdout).error.code).toBe('NOT_FOUND');
  });

  it('lets a partner approved for US read the replica at us, and nowhere else', async () => {
    await vitrineJson(
      [
        ...['partner', 'register', ...partner(), '--org', 'US Regulator'],
        ...['--jurisdiction', 'US', '--contact', 'sec@regulator.example'],
      ],
      client(),
    );
    const asked = await vitrineJson<{ request: { id: string } }>(
      [
        ...['access', 'request', ...partner(), '--jurisdiction', 'US', '--kind', 'source'],
        ...['--product', 'router-os', '--action', 'read', '--for', '2h'],
        ...['--justification', 'certification'],
      ],
      client(),
    );
    const approved = await vitrineJson<{ request: { credentialId: string } }>(
      ['access', 'approve', asked.request.id, ...operator(), '--reason', 'in scope'],
      client(),
    );
    credentialId = approved.request.credentialId;
    await vitrineJson(['access', 'show', asked.request.id, ...partner()], client());
    const out = p('pulled.bin');
    await vitrineJson(
      ['artifact', 'pull', artifactId, ...partner(), '--center', 'us', '-o', out],
      client(),
    );
    expect(Buffer.compare(await readFile(out), content)).toBe(0);
    const elsewhere = await vitrine(
      ['artifact', 'show', artifactId, ...partner(), '--center', 'europe'],
      {},
      client(),
    );
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(
      /^vitrine: europe: credential is not valid at center europe \(PERMISSION_DENIED\)\n$/,
    );
  });

  it('refuses the partner at us once the revocation has crossed the WAN', async () => {
    await vitrineJson(
      [
        ...['access', 'revoke', ...operator(), '--credential', credentialId],
        ...['--reason', 'review finished'],
      ],
      client(),
    );
    const refused = await eventually(async () => {
      const read = await vitrine(
        ['artifact', 'show', artifactId, ...partner(), '--center', 'us'],
        {},
        client(),
      );
      return read.code === 0 ? undefined : read;
    }, 60_000);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^vitrine: us: credential has been revoked \(UNAUTHENTICATED\)\n$/,
    );
  });
});
