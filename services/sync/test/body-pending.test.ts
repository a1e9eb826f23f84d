import { readFile } from 'node:fs/promises';
import { create, toBinary } from '@bufbuild/protobuf';
import { initiateHandshake, verifyManifest } from '@vitrine/channel';
import { Severity } from '@vitrine/proto/finding';
import {
  FetchEventsPlaintextSchema,
  type GetStatusResponse,
  SyncService,
} from '@vitrine/proto/sync';
import { createGrpcClient } from '@vitrine/rpc';
import { grpcCodeOf, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upload } from './artifact-io.js';
import {
  eventually,
  startTestFederation,
  syncClientOf,
  type TestCenter,
  type TestFederation,
} from './federation-harness.js';

const codeOf = grpcCodeOf;

/** The federation the running suite works on (one backend at a time). */
let federation: TestFederation;

/** A center's GetStatus, as `vitrine sync status` reads it: signed by an operator. */
function statusOf(center: TestCenter): Promise<GetStatusResponse> {
  return syncClientOf(federation, center).getStatus({});
}

/** The status of `center`'s link to `peer`. */
async function linkOf(center: TestCenter, peer: string) {
  const link = (await statusOf(center)).peers.find((p) => p.centerId === peer);
  if (!link) throw new Error(`${center.id} reports no link to ${peer}`);
  return link;
}

/** How far `center` holds `origin`'s events. */
async function heldOf(center: TestCenter, origin: string): Promise<bigint> {
  return (await center.registry.replica.versionVector()).get(origin) ?? 0n;
}

describe.each(testBackends())('bodies residency keeps from a forwarder, on $name', (backend) => {
  let f: TestFederation;
  beforeAll(async () => {
    f = await startTestFederation(backend);
    federation = f;
  });
  afterAll(() => f.cleanup());

  it('keeps the link up when a peer outside the residency forwards a header first, and fetches the body from one inside', async () => {
    const { asia, europe, us } = f.centers;
    // us is away while europe publishes an EU,US artifact and a finding on it; asia, outside
    // their residency, takes the signed headers alone.
    await us.stopSync();
    const pushed = await europe.client.pushArtifact(upload('eu-us', ['EU', 'US']));
    const artifactId = pushed.artifact?.id ?? '';
    const { finding } = await europe.client.createFinding({
      artifactIds: [artifactId],
      title: 'EU and US eyes',
      severity: Severity.HIGH,
    });
    const findingId = finding?.id ?? '';
    const published = await heldOf(europe, 'europe');
    await eventually(async () => ((await heldOf(asia, 'europe')) >= published ? true : undefined));
    // Then europe goes quiet, and us comes back: the headers reach it from asia alone.
    await europe.stopSync();
    await us.startSync();
    // Both headers held, both bodies pending (one status may be read between two ingests).
    const awaiting = await eventually(async () => {
      const status = await statusOf(us);
      const held = status.versionVector.find((e) => e.origin === 'europe')?.seq;
      return status.bodiesPending === 2n && held === published ? status : undefined;
    });
    expect(awaiting.versionVector.find((e) => e.origin === 'europe')?.seq).toBe(published);
    expect(await codeOf(us.client.getArtifact({ id: artifactId }))).toBe('NOT_FOUND');
    expect(await codeOf(us.client.getFinding({ id: findingId }))).toBe('NOT_FOUND');

    // The link to asia stays up and keeps carrying events: a finding asia makes arrives.
    const asiaArtifact = await asia.client.pushArtifact(upload('everywhere', []));
    await asia.client.createFinding({
      artifactIds: [asiaArtifact.artifact?.id ?? ''],
      title: 'from asia',
      severity: Severity.LOW,
    });
    const asiaHead = await heldOf(asia, 'asia');
    await eventually(async () => ((await heldOf(us, 'asia')) >= asiaHead ? true : undefined));
    const toAsia = await linkOf(us, 'asia');
    expect(toAsia.connected).toBe(true);
    expect(toAsia.lastError).toBe('');
    // Stored, but held back behind the awaited bodies: state is derived in log order.
    const held = await statusOf(us);
    expect(held.bodiesPending).toBe(2n);
    expect(held.eventsHeldBack).toBeGreaterThan(0n);

    // europe comes back: us fetches the bodies from it, and applies everything in order.
    await europe.startSync();
    await eventually(async () => {
      const status = await statusOf(us);
      return status.bodiesPending === 0n && status.eventsHeldBack === 0n ? true : undefined;
    });
    const got = await us.client.getFinding({ id: findingId });
    expect(got.finding?.title).toBe('EU and US eyes');
    expect((await us.client.getArtifact({ id: artifactId })).artifact?.origin).toBe('europe');
    expect((await linkOf(us, 'europe')).bodiesFetched).toBe(2n);
    expect((await linkOf(us, 'asia')).bodiesFetched).toBe(0n);
    expect((await linkOf(us, 'asia')).lastError).toBe('');
    expect(await codeOf(asia.client.getArtifact({ id: artifactId }))).toBe('NOT_FOUND');
  });

  it('reports the same convergence digest at every center at rest, where state digests differ', async () => {
    const { asia, europe, us } = f.centers;
    const centers = [asia, europe, us];
    // An artifact asia may not hold: its body stays at europe and us.
    await europe.client.pushArtifact(upload('eu-us-at-rest', ['EU', 'US']));
    const published = await heldOf(europe, 'europe');
    const settled = await eventually(async () => {
      const all = await Promise.all(centers.map(statusOf));
      const [first] = all;
      if (all.some((s) => s.bodiesPending !== 0n || s.eventsHeldBack !== 0n)) return undefined;
      // At rest once every center reports europe's publication (GetStatus reads its
      // position and its digests one after the other, not as one snapshot).
      const reached = (s: GetStatusResponse) =>
        (s.versionVector.find((e) => e.origin === 'europe')?.seq ?? 0n) >= published;
      if (!all.every(reached)) return undefined;
      return all.every((s) => s.convergenceDigest === first?.convergenceDigest) ? all : undefined;
    });
    const [atAsia, atEurope, atUs] = settled as [GetStatusResponse, ...GetStatusResponse[]];
    expect(atAsia.convergenceDigest).toMatch(/^[0-9a-f]{64}$/);
    // Every center holds every signed header, and asia no EU,US body: its state differs.
    const position = (s: GetStatusResponse | undefined) =>
      Object.fromEntries((s?.versionVector ?? []).map((e) => [e.origin, e.seq]));
    expect(position(atAsia)).toEqual(position(atEurope));
    expect(position(atUs)).toEqual(position(atEurope));
    expect(atAsia.stateDigest).not.toBe(atEurope?.stateDigest);
    expect(atEurope?.stateDigest).toBe(atUs?.stateDigest);
    // A new event anywhere moves the digest, until it has reached every center again.
    await asia.client.pushArtifact(upload('moves the history', []));
    expect((await statusOf(asia)).convergenceDigest).not.toBe(atAsia.convergenceDigest);
  });

  it('serves FetchEvents only within residency, and refuses malformed requests', async () => {
    const { asia, europe } = f.centers;
    // An event of europe's that asia may not hold, and one of asia's that europe holds.
    await europe.client.pushArtifact(upload('eu-us-fetched', ['EU', 'US']));
    const restricted = { origin: 'europe', seq: await heldOf(europe, 'europe') };
    await asia.client.pushArtifact(upload('asia-fetched', []));
    await eventually(async () => ((await heldOf(europe, 'asia')) >= 1n ? true : undefined));
    const sync = createGrpcClient(SyncService, `http://127.0.0.1:${europe.syncPort}`);
    const manifest = await verifyManifest(
      JSON.parse(await readFile(f.manifestFile, 'utf8')),
      f.root.publicKey,
    );
    const ask = async (events: { origin: string; seq: bigint }[]) => {
      const handshake = await initiateHandshake({
        manifest,
        self: { id: 'asia', signingKey: asia.key },
        peerId: 'europe',
      });
      const session = await handshake.complete(await sync.handshake(handshake.request));
      const request = create(FetchEventsPlaintextSchema, { events });
      const frame = session
        .sender('fetch-events')
        .seal(toBinary(FetchEventsPlaintextSchema, request), { final: true });
      let frames = 0;
      for await (const _ of sync.fetchEvents({ sessionId: session.id, frame })) frames++;
      return frames;
    };
    expect(await codeOf(ask([{ origin: 'asia', seq: 1n }, restricted]))).toBe('PERMISSION_DENIED');
    expect(await codeOf(ask([]))).toBe('INVALID_ARGUMENT');
    const tooMany = Array.from({ length: 1025 }, (_, i) => ({
      origin: 'asia',
      seq: BigInt(i + 1),
    }));
    expect(await codeOf(ask(tooMany))).toBe('INVALID_ARGUMENT');
    // An event asia may hold comes back whole; one europe lacks is left out.
    expect(await ask([{ origin: 'asia', seq: 1n }])).toBe(1);
    expect(await ask([{ origin: 'asia', seq: 1_000_000n }])).toBe(0);
    const unsealed = async () => {
      for await (const _ of sync.fetchEvents({
        sessionId: 'f'.repeat(32),
        frame: new Uint8Array(8),
      })) {
      }
    };
    expect(await codeOf(unsealed())).toBe('UNAUTHENTICATED');
  });
});
