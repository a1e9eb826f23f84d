import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { verifyTrustSnapshot } from '@vitrine/credentials';
import { sha256 } from '@vitrine/crypto';
import { type AccessDecision, ActorKind, DecisionKind } from '@vitrine/proto/access-decision';
import { LogService } from '@vitrine/proto/log';
import { createGrpcClient } from '@vitrine/rpc';
import { grpcCodeOf, tempDir, testBackends } from '@vitrine/testing';
import {
  decodeEntryBundle,
  formatVerifierKey,
  hashLeaf,
  noteKey,
  openNote,
  parseCheckpoint,
  verifyConsistency,
  verifyInclusion,
} from '@vitrine/tlog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDecisionLeaf, operatorRef, partnerKeyRef, partnerRef } from '../src/decision-log.js';
import { hoursFromNow, startTestAccess, type TestAccess } from './harness.js';

const ORIGIN = 'vitrine-test/access';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A request for EU source snapshots for `hours` (EU needs two approvers). */
function euRequest(hours = 48) {
  return {
    jurisdiction: 'EU',
    scope: { artifactKinds: ['source'], products: ['router-os'], actions: [1] },
    expiresAt: hoursFromNow(hours),
    justification: 'certification review',
  };
}

describe.each(testBackends())('the access log on $name', (backend) => {
  let t: TestAccess;
  // A connection per request: a kept-alive socket the server has timed out while a slow
  // step ran would be reset under the client, which says nothing about the log.
  const tiles = (path: string, init?: RequestInit) =>
    fetch(`${t.access.url}/log/${path}`, { ...init, headers: { connection: 'close' } });
  const logClient = () => createGrpcClient(LogService, t.access.url);

  /** The latest checkpoint, its signature checked by the trust key under the origin. */
  async function checkpoint() {
    const res = await tiles('checkpoint');
    expect(res.status).toBe(200);
    const note = await res.text();
    const opened = await openNote(note, [noteKey(ORIGIN, t.access.trustKey)]);
    return { note, ...parseCheckpoint(opened.text) };
  }

  /** Waits for a checkpoint of at least `size` leaves (signed within the interval). */
  async function checkpointOf(size: number) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const latest = await checkpoint();
      if (latest.size >= size || Date.now() > deadline) return latest;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Every decision in the signed log, read from entry bundles, each leaf's signature checked. */
  async function decisions(size: number): Promise<AccessDecision[]> {
    const leaves = await publicLeaves(size);
    return Promise.all(leaves.map((leaf) => openDecisionLeaf(leaf, t.access.trustKey)));
  }

  /** Every leaf as anyone reads it from the public tiles, the last one's inclusion checked. */
  async function publicLeaves(size: number): Promise<Uint8Array[]> {
    const latest = await checkpointOf(size);
    const leaves: Uint8Array[] = [];
    for (let n = 0; n * 256 < latest.size; n++) {
      const width = Math.min(256, latest.size - n * 256);
      const path = `tile/entries/${String(n).padStart(3, '0')}${width < 256 ? `.p/${width}` : ''}`;
      const res = await tiles(path);
      expect(res.status).toBe(200);
      leaves.push(...decodeEntryBundle(new Uint8Array(await res.arrayBuffer())));
    }
    expect(leaves.length).toBe(latest.size);
    const proven = await logClient().getInclusionProof({
      leaf: { case: 'leafIndex', value: BigInt(latest.size - 1) },
      treeSize: BigInt(latest.size),
    });
    verifyInclusion(hashLeaf(proven.leaf), latest.size - 1, latest.size, proven.proof, latest.root);
    return leaves;
  }

  let count = 0;
  /**
   * The `expected` decisions appended since the last call (their indexes follow on with no
   * gap), once a checkpoint covers them; any leaf appended before them shows up here too.
   */
  async function appended(expected: number): Promise<AccessDecision[]> {
    const all = await decisions(count + expected);
    expect(all.map((d) => d.index)).toEqual(all.map((_, i) => BigInt(i)));
    const fresh = all.slice(count);
    count = all.length;
    return fresh;
  }

  beforeAll(async () => {
    t = await startTestAccess(backend, {
      federation: 'vitrine-test',
      log: { checkpointIntervalMs: 20 },
    });
  });
  afterAll(() => t?.cleanup());

  /** Every partner registered in these tests, with its key, organisation and contact. */
  const registered: Awaited<ReturnType<TestAccess['registerPartner']>>[] = [];
  async function register(organisation: string, jurisdictions: readonly string[]) {
    const partner = await t.registerPartner(organisation, jurisdictions);
    registered.push(partner);
    return partner;
  }

  it('starts with the first token key, recorded as a rotation, in a signed checkpoint', async () => {
    const [first, ...rest] = await appended(1);
    expect(rest).toEqual([]);
    expect(first).toMatchObject({
      kind: DecisionKind.KEY_ROTATED,
      actorKind: ActorKind.UNSPECIFIED,
      index: 0n,
    });
    expect(first?.actorRef).toEqual(new Uint8Array());
    expect(first?.publicKey).toEqual(t.access.tokenKey);
    expect(t.access.logOrigin).toBe(ORIGIN);
  });

  it('appends one leaf per decision, in the decision’s transaction', async () => {
    const partner = await register('Bundesamt Review', ['EU']);
    // The partner, and anyone who knows its id, recognises its leaves by these digests.
    const asPartner = { actorKind: ActorKind.PARTNER, actorRef: partnerRef(partner.partner.id) };
    const concerns = { partnerRef: partnerRef(partner.partner.id) };
    const byOperator = (name: string) => ({
      actorKind: ActorKind.OPERATOR,
      actorRef: operatorRef(name),
    });
    const [registered, ...none] = await appended(1);
    expect(none).toEqual([]);
    expect(registered).toMatchObject({
      kind: DecisionKind.PARTNER_REGISTERED,
      ...asPartner,
      ...concerns,
      partnerKeyRef: partnerKeyRef(partner.key.publicKey),
      jurisdictions: ['EU'],
    });
    expect(registered?.publicKey).toEqual(new Uint8Array());

    const { request } = await partner.client.requestAccess(euRequest());
    const requestId = request?.id ?? '';
    expect(await appended(1)).toMatchObject([
      {
        kind: DecisionKind.ACCESS_REQUESTED,
        ...asPartner,
        requestId,
        ...concerns,
        jurisdictions: ['EU'],
        notBeforeMs: 0n,
      },
    ]);

    await t.operator('alice').decideAccessRequest({ requestId, approve: true, reason: 'ok' });
    expect(await appended(1)).toMatchObject([
      { kind: DecisionKind.REQUEST_APPROVED, ...byOperator('alice'), ...concerns, requestId },
    ]);
    const second = await t
      .operator('bob')
      .decideAccessRequest({ requestId, approve: true, reason: 'agreed' });
    const credentialId = second.request?.credentialId ?? '';
    const { request: mine } = await partner.client.getAccessRequest({ id: requestId });
    const [approved, issued, ...more] = await appended(2);
    expect(more).toEqual([]);
    expect(approved).toMatchObject({
      kind: DecisionKind.REQUEST_APPROVED,
      ...byOperator('bob'),
    });
    expect(issued).toMatchObject({
      kind: DecisionKind.CREDENTIAL_ISSUED,
      ...byOperator('bob'),
      credentialId,
      requestId,
      ...concerns,
      jurisdictions: ['EU'],
    });
    expect(issued?.tokenDigest).toEqual(sha256(new TextEncoder().encode(mine?.credential ?? '')));
    expect(issued?.expiresAtMs).toBeGreaterThan(issued?.notBeforeMs ?? 0n);

    const { request: denied } = await partner.client.requestAccess(euRequest(24));
    await t.operator('carol').decideAccessRequest({
      requestId: denied?.id ?? '',
      approve: false,
      reason: 'no',
    });
    expect(
      (await appended(2)).map((d) => [d.kind, d.requestId, d.actorKind, hex(d.actorRef)]),
    ).toEqual([
      [DecisionKind.ACCESS_REQUESTED, denied?.id, ActorKind.PARTNER, hex(asPartner.actorRef)],
      [DecisionKind.REQUEST_DENIED, denied?.id, ActorKind.OPERATOR, hex(operatorRef('carol'))],
    ]);

    const { revocation } = await t.operator('sec').revoke({
      target: { case: 'credentialId', value: credentialId },
      reason: 'review finished',
    });
    expect(await appended(1)).toMatchObject([
      {
        kind: DecisionKind.REVOKED,
        ...byOperator('sec'),
        revocationId: revocation?.id,
        revocationTarget: 'credential',
        credentialId,
        ...concerns,
      },
    ]);

    const { active } = await t.operator('ops').rotateKeys({});
    const [rotated] = await appended(1);
    expect(rotated).toMatchObject({
      kind: DecisionKind.KEY_ROTATED,
      ...byOperator('ops'),
      keyId: active?.keyId,
    });
    expect(rotated?.publicKey).toEqual(active?.publicKey);

    const operatorCredential = await t.operator('ops').issueOperatorCredential({});
    const [own] = await appended(1);
    expect(own).toMatchObject({
      kind: DecisionKind.OPERATOR_CREDENTIAL_ISSUED,
      ...byOperator('ops'),
      credentialId: operatorCredential.credentialId,
      keyId: active?.keyId,
      jurisdictions: ['*'],
    });
    expect(own?.tokenDigest).toEqual(
      sha256(new TextEncoder().encode(operatorCredential.credential)),
    );

    // Revoking the signing key makes a new one sign: two leaves, one transaction.
    await t.operator('sec').revoke({
      target: { case: 'keyId', value: active?.keyId ?? '' },
      reason: 'key exposed',
    });
    expect((await appended(2)).map((d) => [d.kind, d.revocationTarget, d.keyId !== ''])).toEqual([
      [DecisionKind.REVOKED, 'key', true],
      [DecisionKind.KEY_ROTATED, '', true],
    ]);
  });

  it('appends nothing for a refused decision', async () => {
    const partner = await register('Refused Regulator', ['EU']);
    const { request } = await partner.client.requestAccess(euRequest());
    await appended(2);
    const requestId = request?.id ?? '';
    const refusals: [() => Promise<unknown>, string][] = [
      [
        () =>
          t.signedAs('partner:new', partner.key).registerPartner({
            organisation: 'Again',
            jurisdictions: ['EU'],
            contact: 'x@example.org',
            publicKey: partner.key.publicKey,
          }),
        'ALREADY_EXISTS',
      ],
      [() => partner.client.requestAccess(euRequest(24 * 365)), 'INVALID_ARGUMENT'],
      [
        () => t.operator('ops').decideAccessRequest({ requestId, approve: true, reason: 'x' }),
        'PERMISSION_DENIED',
      ],
      [
        () =>
          t.operator('sec').revoke({
            target: { case: 'credentialId', value: 'c-000000000000000000000000' },
            reason: 'x',
          }),
        'NOT_FOUND',
      ],
      [() => t.operator('alice').rotateKeys({}), 'PERMISSION_DENIED'],
    ];
    for (const [call, code] of refusals) expect(await grpcCodeOf(call())).toBe(code);
    await t.operator('carol').decideAccessRequest({ requestId, approve: false, reason: 'no' });
    expect(
      await grpcCodeOf(
        t.operator('alice').decideAccessRequest({ requestId, approve: true, reason: 'late' }),
      ),
    ).toBe('FAILED_PRECONDITION');
    // Only the denial: its index follows the request's with nothing between.
    expect((await appended(1)).map((d) => d.kind)).toEqual([DecisionKind.REQUEST_DENIED]);
  });

  it('names the access log’s size and root in every trust snapshot', async () => {
    const partner = await register('Snapshot Subject', ['US']);
    const { request } = await partner.client.requestAccess({
      jurisdiction: 'US',
      scope: { artifactKinds: ['rules'], actions: [1] },
      expiresAt: hoursFromNow(24),
      justification: 'rules review',
    });
    const { request: approved } = await t
      .operator('alice')
      .decideAccessRequest({ requestId: request?.id ?? '', approve: true, reason: 'ok' });
    await t.operator('sec').revoke({
      target: { case: 'credentialId', value: approved?.credentialId ?? '' },
      reason: 'done',
    });
    const stream = t.anonymous.watchTrust({})[Symbol.asyncIterator]();
    const first = await stream.next();
    await stream.return?.();
    if (first.done) throw new Error('WatchTrust sent nothing');
    const snapshot = await verifyTrustSnapshot(first.value, t.access.trustKey);
    const all = await appended(5);
    // The revocation that made this snapshot is the last leaf it covers.
    const size = Number(snapshot.accessLogSize);
    const leaves = await decisions(size);
    expect(leaves[size - 1]).toMatchObject({
      kind: DecisionKind.REVOKED,
      credentialId: approved?.credentialId,
    });
    expect(all.length).toBeGreaterThan(0);
    const latest = await checkpointOf(count);
    const { proof } = await logClient().getConsistencyProof({
      oldSize: snapshot.accessLogSize,
      newSize: BigInt(latest.size),
    });
    if (size < latest.size) {
      verifyConsistency(size, latest.size, proof, snapshot.accessLogRoot, latest.root);
    } else {
      expect(snapshot.accessLogRoot).toEqual(latest.root);
    }
    // A snapshot made after a restart names the log as it stands.
    await t.restart();
    const again = t.anonymous.watchTrust({})[Symbol.asyncIterator]();
    const next = await again.next();
    await again.return?.();
    if (next.done) throw new Error('WatchTrust sent nothing');
    const restarted = await verifyTrustSnapshot(next.value, t.access.trustKey);
    expect(restarted.accessLogSize).toBe(BigInt(count));
    expect(restarted.accessLogRoot).toEqual((await checkpointOf(count)).root);
  });

  it('names no partner, partner key, organisation or operator in the clear in any leaf', async () => {
    const partner = await register('Agence Nationale Privacy Review', ['EU']);
    const other = await register('Office Of Quiet Audits', ['US']);
    const { request } = await other.client.requestAccess({
      jurisdiction: 'US',
      scope: { artifactKinds: ['rules'], actions: [1] },
      expiresAt: hoursFromNow(24),
      justification: 'quiet audit',
    });
    await t
      .operator('carol')
      .decideAccessRequest({ requestId: request?.id ?? '', approve: true, reason: 'fine' });
    await t.operator('sec').revoke({
      target: { case: 'partnerId', value: other.partner.id },
      reason: 'audit over',
    });
    const fresh = await appended(6);
    expect(fresh.map((d) => d.kind)).toEqual([
      DecisionKind.PARTNER_REGISTERED,
      DecisionKind.PARTNER_REGISTERED,
      DecisionKind.ACCESS_REQUESTED,
      DecisionKind.REQUEST_APPROVED,
      DecisionKind.CREDENTIAL_ISSUED,
      DecisionKind.REVOKED,
    ]);
    // The revocation of a partner names it by its reference, as every other leaf does.
    expect(fresh.at(-1)).toMatchObject({
      kind: DecisionKind.REVOKED,
      revocationTarget: 'partner',
      partnerRef: partnerRef(other.partner.id),
      actorKind: ActorKind.OPERATOR,
      actorRef: operatorRef('sec'),
    });
    const leaves = await publicLeaves(count);
    const partners = registered.map((r) => r.partner);
    expect(partners.length).toBeGreaterThanOrEqual(4);
    const utf8 = (text: string) => new TextEncoder().encode(text);
    const secrets: [string, Uint8Array][] = [
      ['principal prefix', utf8('partner:')],
      ['principal prefix', utf8('operator:')],
      ...partners.flatMap((p): [string, Uint8Array][] => [
        [`id ${p.id}`, utf8(p.id)],
        [`organisation ${p.organisation}`, utf8(p.organisation)],
        [`contact ${p.contact}`, utf8(p.contact)],
        [`key of ${p.id}`, p.publicKey],
      ]),
      ...['alice', 'carol', 'root'].map((name): [string, Uint8Array] => [name, utf8(name)]),
    ];
    for (const [index, leaf] of leaves.entries()) {
      const bytes = Buffer.from(leaf);
      for (const [what, value] of secrets) {
        expect(value.length, what).toBeGreaterThan(3);
        expect(bytes.indexOf(value), `leaf ${index} holds ${what}`).toBe(-1);
      }
    }
    // Yet each partner finds its own leaves by its id alone.
    const mine = (await decisions(count)).filter(
      (d) => hex(d.partnerRef) === hex(partnerRef(partner.partner.id)),
    );
    expect(mine.map((d) => d.kind)).toEqual([DecisionKind.PARTNER_REGISTERED]);
  });

  it('refuses tiles beyond the log, malformed paths and proofs beyond it, by code', async () => {
    const { size } = await checkpoint();
    expect(size).toBe(count);
    const beyond = `tile/entries/000.p/${size + 1}`;
    for (const path of [beyond, 'tile/0/001', 'tile/1/000', 'tile/0/1', 'tile/0/000.p/0', 'x']) {
      const res = await tiles(path);
      expect(res.status, path).toBe(404);
    }
    expect((await tiles('checkpoint', { method: 'DELETE' })).status).toBe(405);
    const ok = await tiles(`tile/entries/000.p/${size}`);
    expect(ok.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const log = logClient();
    const over = BigInt(size + 1);
    expect(
      await grpcCodeOf(log.getInclusionProof({ leaf: { case: 'leafIndex', value: over } })),
    ).toBe('INVALID_ARGUMENT');
    expect(
      await grpcCodeOf(
        log.getInclusionProof({ leaf: { case: 'leafIndex', value: 0n }, treeSize: over }),
      ),
    ).toBe('INVALID_ARGUMENT');
    expect(await grpcCodeOf(log.getConsistencyProof({ oldSize: 1n, newSize: over }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await grpcCodeOf(log.getConsistencyProof({ oldSize: 0n }))).toBe('INVALID_ARGUMENT');
    // A center's witness evidence is not the access service's to keep.
    expect(await grpcCodeOf(log.listEvidence({}))).toBe('UNIMPLEMENTED');
  });
});

// Go's golang.org/x/mod/sumdb/{note,tlog} (Debian golang-golang-x-mod-dev) check the access
// log's checkpoint, an inclusion proof and the consistency of a snapshot's root with it.
const goSources = '/usr/share/gocode';
const goAvailable =
  spawnSync('go', ['version']).status === 0 &&
  existsSync(`${goSources}/src/golang.org/x/mod/sumdb/note`);

describe.skipIf(!goAvailable)('Go sumdb verifies the access log', () => {
  it('opens the checkpoint with the access vkey and checks its proofs', async () => {
    const [backend] = testBackends();
    const t = await startTestAccess(
      backend as typeof testBackends extends () => (infer B)[] ? B : never,
      {
        federation: 'vitrine-test',
        log: { checkpointIntervalMs: 20 },
      },
    );
    const dir = await tempDir('vitrine-go-access-');
    try {
      const verifier = `${dir.path}/verify-log`;
      const source = fileURLToPath(
        new URL('../../../libs/tlog/test/interop/verify-log.go', import.meta.url),
      );
      execFileSync('go', ['build', '-o', verifier, source], {
        cwd: dir.path,
        env: {
          ...process.env,
          GOPATH: goSources,
          GO111MODULE: 'off',
          GOCACHE: `${dir.path}/cache`,
          GOFLAGS: '',
        },
      });
      for (let i = 0; i < 3; i++) await t.registerPartner(`Go Checked ${i}`, ['US']);
      const stream = t.anonymous.watchTrust({})[Symbol.asyncIterator]();
      const first = await stream.next();
      await stream.return?.();
      if (first.done) throw new Error('WatchTrust sent nothing');
      const snapshot = await verifyTrustSnapshot(first.value, t.access.trustKey);
      const log = createGrpcClient(LogService, t.access.url);
      let latest = await log.getCheckpoint({});
      while (latest.treeSize < 4n) {
        await new Promise((r) => setTimeout(r, 20));
        latest = await log.getCheckpoint({});
      }
      const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
      const inclusion = await log.getInclusionProof({ leaf: { case: 'leafIndex', value: 2n } });
      const consistency = await log.getConsistencyProof({ oldSize: snapshot.accessLogSize });
      const input = {
        note: inclusion.checkpoint,
        vkey: formatVerifierKey(noteKey(ORIGIN, t.access.trustKey)),
        inclusion: [{ index: 2, leaf: b64(inclusion.leaf), proof: inclusion.proof.map(b64) }],
        consistency: [
          {
            size: Number(snapshot.accessLogSize),
            root: b64(snapshot.accessLogRoot),
            proof: consistency.proof.map(b64),
          },
        ],
      };
      const run = spawnSync(verifier, [], { input: JSON.stringify(input), encoding: 'utf8' });
      expect(run.stdout).toBe(
        `ok note ${ORIGIN} size ${inclusion.treeSize} signed by ${ORIGIN}\nok inclusion 1\nok consistency 1\n`,
      );
      expect(run.status).toBe(0);
      const altered = spawnSync(verifier, [], {
        input: JSON.stringify({
          ...input,
          vkey: formatVerifierKey(noteKey(ORIGIN, t.access.tokenKey)),
        }),
        encoding: 'utf8',
      });
      expect(altered.stdout).toMatch(/^FAIL note: /);
    } finally {
      await t.cleanup();
      await dir.cleanup();
    }
  });
});
