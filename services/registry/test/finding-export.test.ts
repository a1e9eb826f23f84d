import { type Client, ConnectError } from '@connectrpc/connect';
import {
  csafValidator,
  mandatoryTests,
  osvValidator,
  sarifValidator,
} from '@vitrine/advisories/test-validators';
import { callAuthInterceptor } from '@vitrine/credentials';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { FindingStatus, Severity } from '@vitrine/proto/finding';
import { type ExportFindingsRequest, RegistryService } from '@vitrine/proto/registry';
import { codeName, createGrpcClient } from '@vitrine/rpc';
import { testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomContent, startTestRegistry, type TestRegistry, uploadOf } from './harness.js';

type ExportRequest = Partial<Pick<ExportFindingsRequest, 'format' | 'selection'>>;

/** The whole exported document, from every message of the stream, and how many came. */
async function exported(client: Client<typeof RegistryService>, req: ExportRequest) {
  const parts: Uint8Array[] = [];
  for await (const res of client.exportFindings(req)) parts.push(res.data);
  return { text: Buffer.concat(parts).toString('utf8'), messages: parts.length };
}

/** The gRPC code and message a call was refused with. */
async function refusal(call: Promise<unknown>) {
  try {
    await call;
  } catch (err) {
    const e = ConnectError.from(err);
    return { code: codeName(e.code), message: e.rawMessage };
  }
  return { code: 'OK', message: '' };
}

const osvValid = osvValidator();
const csafValid = csafValidator();
const sarifValid = sarifValidator();

describe.each(testBackends())('ExportFindings over RPC on $name', (backend) => {
  let t: TestRegistry;
  let partner: Client<typeof RegistryService>;
  const a = { source: '', update: '', fix: '', hidden: '' };
  const f = { disclosed: '', inProgress: '', fresh: '', duplicate: '', hidden: '' };

  beforeAll(async () => {
    t = await startTestRegistry(backend);
    const push = async (kind: ArtifactKind, product: string, version: string) => {
      const metadata = { kind, product, version, residency: [] };
      const { artifact } = await t.client.pushArtifact(uploadOf(metadata, randomContent(3_000)));
      return artifact?.id ?? '';
    };
    a.source = await push(ArtifactKind.SOURCE, 'router-os', '4.2');
    a.update = await push(ArtifactKind.UPDATE, 'router-os', '4.2');
    a.fix = await push(ArtifactKind.UPDATE, 'router-os', '4.2.1');
    a.hidden = await push(ArtifactKind.SOURCE, 'agent', '1.0');
    const create = async (artifactIds: string[], title: string, cvssVector = '') => {
      const req = { artifactIds, title, cvssVector, severity: cvssVector ? 0 : Severity.MEDIUM };
      return (await t.client.createFinding(req)).finding?.id ?? '';
    };
    const move = async (id: string, ...statuses: FindingStatus[]) => {
      for (const status of statuses) {
        const fix = status === FindingStatus.FIXED ? { fixArtifactId: a.fix } : {};
        await t.client.updateFinding({ id, status, ...fix });
      }
    };
    f.disclosed = await create(
      [a.source, a.update],
      'Hard-coded credential in updater',
      'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    );
    const { TRIAGED, IN_PROGRESS, FIXED, VERIFIED, DISCLOSED } = FindingStatus;
    await move(f.disclosed, TRIAGED, IN_PROGRESS, FIXED, VERIFIED, DISCLOSED);
    f.inProgress = await create([a.update], 'Debug port left open');
    await move(f.inProgress, TRIAGED, IN_PROGRESS);
    f.fresh = await create([a.source], 'Weak TLS defaults');
    f.duplicate = await create([a.source], 'Weak TLS defaults (again)');
    await t.client.updateFinding({ id: f.duplicate, duplicateOf: f.fresh });
    f.hidden = await create([a.hidden], 'Agent runs as root');
    const caller = await t.trust.partner({
      partner: 'acme',
      jurisdiction: 'EU',
      audience: ['europe'],
      scope: { products: ['router-os'], actions: ['read'] },
    });
    partner = createGrpcClient(RegistryService, t.registry.url, {
      interceptors: [callAuthInterceptor(() => caller, 'europe')],
    });
  });
  afterAll(() => t.cleanup());

  it('writes OSV records per finding and per product that the OSV schema accepts', async () => {
    const one = JSON.parse(
      (
        await exported(t.client, {
          format: 'osv',
          selection: { case: 'findingId', value: f.disclosed },
        })
      ).text,
    );
    expect([osvValid(one), osvValid.errors]).toEqual([true, null]);
    expect(one.id).toBe(`x_VITRINE-${f.disclosed}`);
    expect(one.affected[0].database_specific).toMatchObject({
      product: 'router-os',
      fixed: { version: '4.2.1', artifact: a.fix },
    });
    expect(one.published).toBeDefined();

    const product = { case: 'product' as const, value: 'router-os' };
    const records = JSON.parse(
      (await exported(t.client, { format: 'osv', selection: product })).text,
    );
    expect(records.map((r: { id: string }) => r.id).sort()).toEqual(
      [f.disclosed, f.inProgress, f.fresh, f.duplicate].map((id) => `x_VITRINE-${id}`).sort(),
    );
    for (const r of records) expect([r.id, osvValid(r)]).toEqual([r.id, true]);
    const duplicate = records.find((r: { id: string }) => r.id === `x_VITRINE-${f.duplicate}`);
    expect(duplicate.related).toEqual([`x_VITRINE-${f.fresh}`]);
    expect(duplicate.withdrawn).toBeDefined();
  });

  it('writes a CSAF advisory of a disclosed finding that passes the schema and the BSI mandatory tests', async () => {
    for (const selection of [
      { case: 'findingId' as const, value: f.disclosed },
      { case: 'product' as const, value: 'router-os' },
    ]) {
      const doc = JSON.parse((await exported(t.client, { format: 'csaf', selection })).text);
      expect([csafValid(doc), csafValid.errors]).toEqual([true, null]);
      expect((await mandatoryTests(doc)).failures).toEqual([]);
      expect(doc.document.category).toBe('csaf_security_advisory');
      // A listing's advisory holds its disclosed findings only.
      expect(doc.vulnerabilities.map((v: { ids: { text: string }[] }) => v.ids[0]?.text)).toEqual([
        f.disclosed,
      ]);
      expect(doc.vulnerabilities[0].product_status).toEqual({
        known_affected: [a.source, a.update].sort(),
        fixed: [a.fix],
        first_fixed: [a.fix],
      });
    }
  });

  it('refuses a CSAF advisory of a finding not disclosed, and of a listing without one', async () => {
    const selection = { case: 'findingId' as const, value: f.inProgress };
    expect(await refusal(exported(t.client, { format: 'csaf', selection }))).toEqual({
      code: 'FAILED_PRECONDITION',
      message: `finding ${f.inProgress} is in_progress, not disclosed: a security advisory publishes disclosed findings only (export csaf-vex for the status of undisclosed ones)`,
    });
    const artifact = { case: 'artifactId' as const, value: a.hidden };
    expect(await refusal(exported(t.client, { format: 'csaf', selection: artifact }))).toEqual({
      code: 'FAILED_PRECONDITION',
      message: `no disclosed finding in artifact ${a.hidden}: a security advisory publishes disclosed findings only (export csaf-vex for the status of the others)`,
    });
  });

  it('writes a CSAF VEX document with the status of each product version', async () => {
    const selection = { case: 'product' as const, value: 'router-os' };
    const doc = JSON.parse((await exported(t.client, { format: 'csaf-vex', selection })).text);
    expect([csafValid(doc), csafValid.errors]).toEqual([true, null]);
    expect((await mandatoryTests(doc)).failures).toEqual([]);
    expect(doc.document.category).toBe('csaf_vex');
    const byId = new Map<
      string,
      { product_status: unknown; remediations?: { category: string }[] }
    >(doc.vulnerabilities.map((v: { ids: { text: string }[] }) => [v.ids[0]?.text, v]));
    expect([...byId.keys()].sort()).toEqual([f.disclosed, f.inProgress, f.fresh].sort());
    expect(byId.get(f.disclosed)?.product_status).toMatchObject({ fixed: [a.fix] });
    expect(byId.get(f.inProgress)?.product_status).toEqual({ known_affected: [a.update] });
    expect(byId.get(f.inProgress)?.remediations?.map((r) => r.category)).toEqual([
      'none_available',
    ]);
    expect(byId.get(f.fresh)?.product_status).toEqual({ under_investigation: [a.source] });
  });

  it('streams a SARIF log of every finding that the SARIF schema accepts', async () => {
    const { text } = await exported(t.client, { format: 'sarif' });
    const log = JSON.parse(text);
    expect([sarifValid(log), sarifValid.errors]).toEqual([true, null]);
    const ids = log.runs[0].results.map(
      (r: { properties: { vitrineId: string } }) => r.properties.vitrineId,
    );
    expect(ids.sort()).toEqual(Object.values(f).sort());
  });

  it("holds only what the partner's scope covers; a finding or artifact outside it is NOT_FOUND as a missing one", async () => {
    const { text } = await exported(partner, { format: 'sarif' });
    expect(text).not.toContain(f.hidden);
    expect(text).not.toContain(a.hidden);
    const ids = JSON.parse(text).runs[0].results.map(
      (r: { properties: { vitrineId: string } }) => r.properties.vitrineId,
    );
    expect(ids.sort()).toEqual([f.disclosed, f.inProgress, f.fresh, f.duplicate].sort());
    const asked = async (selection: ExportRequest['selection'], id: string) => {
      const answer = await refusal(
        exported(partner, { format: 'osv', ...(selection && { selection }) }),
      );
      return { ...answer, message: answer.message.replaceAll(id, '<id>') };
    };
    const missingFinding = 'europe-999999';
    const hiddenFinding = await asked({ case: 'findingId', value: f.hidden }, f.hidden);
    expect(hiddenFinding).toEqual({ code: 'NOT_FOUND', message: 'finding <id> not found' });
    expect(await asked({ case: 'findingId', value: missingFinding }, missingFinding)).toEqual(
      hiddenFinding,
    );
    const missingArtifact = 'e'.repeat(64);
    const hiddenArtifact = await asked({ case: 'artifactId', value: a.hidden }, a.hidden);
    expect(hiddenArtifact).toEqual({ code: 'NOT_FOUND', message: 'artifact <id> not found' });
    expect(await asked({ case: 'artifactId', value: missingArtifact }, missingArtifact)).toEqual(
      hiddenArtifact,
    );
    const agent = await exported(partner, {
      format: 'osv',
      selection: { case: 'product', value: 'agent' },
    });
    expect(JSON.parse(agent.text)).toEqual([]);
  });

  it('refuses an unknown format naming the known ones, and a malformed selection', async () => {
    expect(await refusal(exported(t.client, { format: 'cyclonedx' }))).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'unknown export format "cyclonedx" (one of osv, csaf, csaf-vex, sarif)',
    });
    expect(
      await refusal(
        exported(t.client, { format: 'osv', selection: { case: 'findingId', value: 'x' } }),
      ),
    ).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'invalid request: finding_id: must be a finding id such as europe-17',
    });
  });
});
