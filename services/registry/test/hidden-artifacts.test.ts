import { type Client, ConnectError } from '@connectrpc/connect';
import { callAuthInterceptor } from '@vitrine/credentials';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { FindingStatus, Severity } from '@vitrine/proto/finding';
import { RegistryService } from '@vitrine/proto/registry';
import { createGrpcClient } from '@vitrine/rpc';
import { testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  download,
  randomContent,
  startTestRegistry,
  type TestRegistry,
  uploadOf,
} from './harness.js';

/**
 * A partner must not learn from an answer that an artifact or finding outside its scope
 * exists: asking for one answers exactly as asking for one that does not exist.
 */
describe.each(testBackends())('what a partner scope hides, on $name', (backend) => {
  let t: TestRegistry;
  let partner: Client<typeof RegistryService>;
  /** In scope: the partner's product. */
  let source = '';
  let update = '';
  let finding = '';
  /** Outside the scope (another product). */
  let hiddenSource = '';
  let hiddenUpdate = '';
  let hiddenFinding = '';
  const missingArtifact = 'e'.repeat(64);
  const missingFinding = 'europe-999999';

  beforeAll(async () => {
    t = await startTestRegistry(backend);
    const push = async (kind: ArtifactKind, product: string) => {
      const metadata = { kind, product, version: '1', residency: ['EU'] };
      const { artifact } = await t.client.pushArtifact(uploadOf(metadata, randomContent(2_000)));
      return artifact?.id ?? '';
    };
    source = await push(ArtifactKind.SOURCE, 'agent');
    update = await push(ArtifactKind.UPDATE, 'agent');
    hiddenSource = await push(ArtifactKind.SOURCE, 'router');
    hiddenUpdate = await push(ArtifactKind.UPDATE, 'router');
    const create = async (artifactId: string) => {
      const req = { artifactIds: [artifactId], title: 'Weak cipher', severity: Severity.HIGH };
      return (await t.client.createFinding(req)).finding?.id ?? '';
    };
    finding = await create(source);
    hiddenFinding = await create(hiddenSource);
    const caller = await t.trust.partner({
      partner: 'acme',
      jurisdiction: 'EU',
      audience: ['europe'],
      scope: { products: ['agent'], actions: ['read', 'review', 'comment'] },
    });
    partner = createGrpcClient(RegistryService, t.registry.url, {
      interceptors: [callAuthInterceptor(() => caller, 'europe')],
    });
  });
  afterAll(() => t.cleanup());

  it('GetArtifact and PullArtifact', async () => {
    await expectSameAnswer(
      (id) => partner.getArtifact({ id }),
      [hiddenSource, hiddenUpdate, missingArtifact],
      'NotFound',
    );
    await expectSameAnswer(
      (id) => download(partner, id),
      [hiddenSource, missingArtifact],
      'NotFound',
    );
    expect((await partner.getArtifact({ id: source })).artifact?.id).toBe(source);
  });

  it('GetFinding, AddComment and UpdateFinding on a finding', async () => {
    const ids = [hiddenFinding, missingFinding];
    await expectSameAnswer((id) => partner.getFinding({ id }), ids, 'NotFound');
    await expectSameAnswer(
      (id) => partner.addComment({ findingId: id, text: 'x' }),
      ids,
      'NotFound',
    );
    await expectSameAnswer(
      (id) => partner.updateFinding({ id, status: FindingStatus.TRIAGED }),
      ids,
      'NotFound',
    );
    expect((await partner.getFinding({ id: finding })).finding?.id).toBe(finding);
  });

  it('CreateFinding on artifacts', async () => {
    const create = (id: string) =>
      partner.createFinding({ artifactIds: [source, id], title: 'x', severity: Severity.LOW });
    await expectSameAnswer(create, [hiddenSource, missingArtifact], 'NotFound');
  });

  it('UpdateFinding naming a fix artifact, whatever its kind', async () => {
    await partner.updateFinding({ id: finding, status: FindingStatus.TRIAGED });
    await partner.updateFinding({ id: finding, status: FindingStatus.IN_PROGRESS });
    // An invalid move too: the fix is looked at before the lifecycle, hidden or missing.
    const fixWith = (status: FindingStatus) => (id: string) =>
      partner.updateFinding({ id: finding, status, fixArtifactId: id });
    const ids = [hiddenUpdate, hiddenSource, missingArtifact];
    await expectSameAnswer(fixWith(FindingStatus.FIXED), ids, 'NotFound');
    await expectSameAnswer(fixWith(FindingStatus.DISCLOSED), ids, 'NotFound');
    // Within its scope, the precise answers stay.
    expect(await codeOf(fixWith(FindingStatus.FIXED)(source))).toBe('FailedPrecondition');
    const fixed = await fixWith(FindingStatus.FIXED)(update);
    expect(fixed.finding?.fixArtifactId).toBe(update);
  });

  it('ListFindings by artifact', async () => {
    for (const artifactId of [hiddenSource, missingArtifact]) {
      expect((await partner.listFindings({ artifactId })).findings).toEqual([]);
    }
  });

  it('PushArtifact superseding an artifact (publishing is for operators)', async () => {
    const push = (id: string) =>
      partner.pushArtifact(
        uploadOf(
          { kind: ArtifactKind.SOURCE, product: 'agent', version: '2', supersedes: id },
          randomContent(100),
        ),
      );
    await expectSameAnswer(push, [hiddenSource, source, missingArtifact], 'PermissionDenied');
  });
});

/** The status a call ends with, by code name. */
async function codeOf(call: Promise<unknown>): Promise<string> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  return err ? (Object.entries(codeNames).find(([, c]) => c === err.code)?.[0] ?? '?') : 'OK';
}

const codeNames = { NotFound: 5, PermissionDenied: 7, FailedPrecondition: 9 } as const;

/**
 * Calls `call` with each id and expects every answer to be `code` with the same message once
 * the id asked for is taken out of it.
 */
async function expectSameAnswer(
  call: (id: string) => Promise<unknown>,
  ids: readonly string[],
  code: keyof typeof codeNames,
): Promise<void> {
  const answers = [];
  for (const id of ids) {
    const err = await call(id).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    answers.push({ code: err?.code, message: err?.rawMessage.replaceAll(id, '<id>') });
  }
  expect(answers[0]?.code).toBe(codeNames[code]);
  for (const answer of answers) expect(answer).toEqual(answers[0]);
}
