import { fromBinary } from '@bufbuild/protobuf';
import { type Client, createClient } from '@connectrpc/connect';
import { callAuthInterceptor } from '@vitrine/credentials';
import { generateSigningKeyPair, type SigningKeyPair } from '@vitrine/crypto';
import { Action } from '@vitrine/proto/access';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { EventBodySchema } from '@vitrine/proto/event';
import { RegistryService } from '@vitrine/proto/registry';
import { createGrpcClientTransport } from '@vitrine/rpc';
import { grpcCodeOf, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hoursFromNow, startTestAccess, type TestAccess } from '../services/access/test/harness.js';
import {
  eventually,
  startTestFederation,
  type TestCenter,
  type TestFederation,
} from '../services/sync/test/federation-harness.js';

type Registry = Client<typeof RegistryService>;

/** A registry client signing every call with `credential` and its holder key. */
function registryAs(center: TestCenter, key: SigningKeyPair, credential: string): Registry {
  return createClient(
    RegistryService,
    createGrpcClientTransport(center.registry.url, {
      interceptors: [callAuthInterceptor(() => ({ key, credential }), center.id)],
    }),
  );
}

/** A federation whose three centers follow a real access service. */
describe.each(testBackends().slice(0, 1))(
  'access enforced across the federation on $name',
  (backend) => {
    let access: TestAccess;
    let f: TestFederation;
    let ops: { europe: Registry; us: Registry; asia: Registry };
    let artifact = '';
    /** The approved EU partner's client at europe. */
    let partnerAtEurope: Registry | undefined;
    const keys = new Map<string, SigningKeyPair>();
    const keyOf = (name: string) => keys.get(name) as SigningKeyPair;
    const operator = (name: string) => access.signedAs(`operator:${name}`, keyOf(name));

    beforeAll(async () => {
      const roles = {
        root: ['operator', 'approver', 'security'],
        ops: ['operator'],
        sec: ['security'],
        alice: ['approver'],
        bob: ['approver'],
      } as const;
      for (const name of Object.keys(roles)) keys.set(name, await generateSigningKeyPair());
      access = await startTestAccess(backend, {
        operators: Object.entries(roles).map(([name, r]) => ({
          name,
          roles: [...r],
          publicKey: Buffer.from(keyOf(name).publicKey).toString('base64'),
        })),
      });
      f = await startTestFederation(backend, {
        access: {
          url: access.access.url,
          trustKey: Buffer.from(access.access.trustKey).toString('base64'),
        },
      });
      const root = await operator('root').issueOperatorCredential({});
      ops = {
        europe: registryAs(f.centers.europe, keyOf('root'), root.credential),
        us: registryAs(f.centers.us, keyOf('root'), root.credential),
        asia: registryAs(f.centers.asia, keyOf('root'), root.credential),
      };
      // Centers start with no snapshot: calls are refused until WatchTrust delivers one.
      await eventually(async () => ((await ops.europe.listArtifacts({})) ? true : undefined));
      const pushed = await ops.europe.pushArtifact(
        (async function* () {
          yield {
            part: {
              case: 'metadata' as const,
              value: {
                kind: ArtifactKind.SOURCE,
                product: 'router-os',
                version: '4.2',
                residency: ['EU', 'US'],
              },
            },
          };
          yield { part: { case: 'data' as const, value: new Uint8Array(40_000).fill(7) } };
        })(),
      );
      artifact = pushed.artifact?.id ?? '';
    });
    afterAll(async () => {
      await f?.cleanup();
      await access?.cleanup();
    });

    it('an approved partner reads at its jurisdiction’s center only; its calls replicate as AccessUsed', async () => {
      const { partner, key, client } = await access.registerPartner('Regulator EU', ['EU']);
      const { request } = await client.requestAccess({
        partnerId: partner.id,
        jurisdiction: 'EU',
        scope: { artifactKinds: ['source'], products: ['router-os'], actions: [Action.READ] },
        expiresAt: hoursFromNow(24),
        justification: 'audit of router-os 4.2',
      });
      await operator('alice').decideAccessRequest({
        requestId: request?.id ?? '',
        approve: true,
        reason: 'audit is due',
      });
      const { request: approved } = await operator('bob').decideAccessRequest({
        requestId: request?.id ?? '',
        approve: true,
        reason: 'second approver',
      });
      const credential = approved?.credential ?? '';
      const europe = registryAs(f.centers.europe, key, credential);
      partnerAtEurope = europe;
      expect((await europe.getArtifact({ id: artifact })).artifact?.product).toBe('router-os');
      expect(
        await grpcCodeOf(registryAs(f.centers.us, key, credential).getArtifact({ id: artifact })),
      ).toBe('PERMISSION_DENIED');
      // The AccessUsed event of the read reaches us (the artifact may be held there); asia
      // holds its header only.
      const principal = `partner:${partner.id}`;
      const atUs = await eventually(async () => {
        const uses = await accessUsesAt(f.centers.us);
        return uses.find((u) => u?.principal === principal) ? uses : undefined;
      });
      expect(atUs.filter((u) => u?.principal === principal).map((u) => u?.artifactId)).toContain(
        artifact,
      );
      // asia (APAC) holds the event's signed header, never its body.
      const europeSeq = (await f.centers.europe.registry.replica.versionVector()).get('europe');
      await eventually(async () =>
        (await f.centers.asia.registry.replica.versionVector()).get('europe') === europeSeq
          ? true
          : undefined,
      );
      const atAsia = await accessUsesAt(f.centers.asia);
      expect(atAsia.some((u) => u?.artifactId === artifact)).toBe(false);
      expect(atAsia.find((u) => u?.principal === principal)).toBeUndefined();
      // The refusal at us (another jurisdiction) came before the proof of possession was
      // checked, so it is logged and counted there, never recorded in the signed log.
      const ours = atUs.filter((u) => u?.principal === principal);
      expect(ours.map((u) => u?.refusalCode)).toEqual(ours.map(() => 0));
    });

    it('a revocation reaches all three centers', async () => {
      const issued = await operator('ops').issueOperatorCredential({});
      const clients = (['asia', 'europe', 'us'] as const).map((id) =>
        registryAs(f.centers[id], keyOf('ops'), issued.credential),
      );
      for (const c of clients) expect(await grpcCodeOf(c.listArtifacts({}))).toBe('OK');
      await operator('sec').revoke({
        target: { case: 'credentialId', value: issued.credentialId },
        reason: 'test',
      });
      for (const c of clients) {
        await eventually(
          async () =>
            (await grpcCodeOf(c.listArtifacts({}))) === 'UNAUTHENTICATED' ? true : undefined,
          5_000,
        );
      }
    });

    it('with the access service stopped, credentials keep working and revocations keep biting', async () => {
      const revoked = await operator('ops').issueOperatorCredential({});
      await operator('sec').revoke({
        target: { case: 'credentialId', value: revoked.credentialId },
        reason: 'x',
      });
      const stale = registryAs(f.centers.us, keyOf('ops'), revoked.credential);
      await eventually(async () =>
        (await grpcCodeOf(stale.listArtifacts({}))) === 'UNAUTHENTICATED' ? true : undefined,
      );
      await access.access.stop();
      for (const c of Object.values(ops)) expect(await grpcCodeOf(c.listArtifacts({}))).toBe('OK');
      expect(await grpcCodeOf((partnerAtEurope as Registry).getArtifact({ id: artifact }))).toBe(
        'OK',
      );
      expect(await grpcCodeOf(stale.listArtifacts({}))).toBe('UNAUTHENTICATED');
      await access.restart();
    });
  },
);

/** The AccessUsed bodies a center holds (undefined for each event it holds the header of only). */
async function accessUsesAt(center: TestCenter) {
  const stop = new AbortController();
  const found = [];
  const idle = () => setTimeout(() => stop.abort(), 300);
  let timer = idle();
  const peer = { id: 'audit', jurisdiction: center.jurisdiction };
  for await (const signed of center.registry.replica.feed(peer, new Map(), stop.signal)) {
    clearTimeout(timer);
    timer = idle();
    if (signed.body.length === 0) {
      found.push(undefined);
      continue;
    }
    const body = fromBinary(EventBodySchema, signed.body);
    if (body.change.case === 'accessUsed') found.push(body.change.value);
  }
  return found;
}
