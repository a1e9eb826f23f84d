import { signDetached } from '@vitrine/crypto';
import type { InvalidArgumentError } from '@vitrine/errors';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVICE_LEVELS, signManifest, verifyManifest } from '../src/index.js';
import type { FederationManifestDocument } from '../src/manifest-schema.js';
import { type TestFederation, testFederation } from './federation-fixture.js';

const DOMAIN = 'vitrine/federation-manifest/v1\n';

let fed: TestFederation;
beforeAll(async () => {
  fed = await testFederation();
});

/** The document with a `serviceLevels` section (any shape, to reach the checks). */
function withLevels(section: unknown): FederationManifestDocument {
  return { ...structuredClone(fed.document), serviceLevels: section } as FederationManifestDocument;
}

/** The `field: problem` lines of an `invalid_argument`, after asserting the code. */
async function problems(promise: Promise<unknown>): Promise<string[]> {
  const err = (await promise.then(
    () => expect.fail('expected invalid_argument'),
    (e: unknown) => e,
  )) as InvalidArgumentError;
  expect(err.code).toBe('invalid_argument');
  return err.violations.map((v) => `${v.field}: ${v.message}`);
}

describe('service levels in the federation manifest', () => {
  it('defaults to critical 7, high 30, medium 90, low 180 days and none for info', () => {
    expect(fed.manifest.serviceLevels).toEqual(DEFAULT_SERVICE_LEVELS);
    expect(fed.manifest.serviceLevels.daysToFix).toEqual({
      critical: 7,
      high: 30,
      medium: 90,
      low: 180,
      info: null,
    });
  });

  it('takes the federation’s days severity by severity and each jurisdiction’s overrides', async () => {
    const doc = withLevels({
      daysToFix: { critical: 3, info: 365, low: null },
      jurisdictions: { EU: { high: 14 } },
    });
    const manifest = await verifyManifest(await signManifest(doc, fed.root), fed.root.publicKey);
    expect(manifest.serviceLevels).toEqual({
      daysToFix: { critical: 3, high: 30, medium: 90, low: null, info: 365 },
      jurisdictions: { EU: { high: 14 } },
    });
    expect(Object.isFrozen(manifest.serviceLevels.daysToFix)).toBe(true);
  });

  it('refuses negative, zero, fractional and absurd days at signing, naming each', async () => {
    const doc = withLevels({
      daysToFix: { critical: -1, high: 0, medium: 2.5, low: 100000, info: '7' },
      jurisdictions: { EU: { high: 36500 }, eu: { low: 1 } },
    });
    expect(await problems(signManifest(doc, fed.root))).toEqual([
      'serviceLevels.daysToFix.critical: whole days from 1 to 3650, or null for none',
      'serviceLevels.daysToFix.high: whole days from 1 to 3650, or null for none',
      'serviceLevels.daysToFix.medium: whole days from 1 to 3650, or null for none',
      'serviceLevels.daysToFix.low: at most 3650 days (ten years), or null for none',
      'serviceLevels.daysToFix.info: whole days from 1 to 3650, or null for none',
      'serviceLevels.jurisdictions.EU.high: at most 3650 days (ten years), or null for none',
      'serviceLevels.jurisdictions.eu: not a jurisdiction code (upper-case, such as EU)',
    ]);
  });

  it('refuses bad days in a root-signed manifest when a center loads it', async () => {
    const text = fed.signed.manifest.replace(
      /^\{/,
      '{"serviceLevels":{"daysToFix":{"critical":-7}},',
    );
    const signature = await signDetached(fed.root, DOMAIN, new TextEncoder().encode(text));
    const signed = { manifest: text, signature: Buffer.from(signature).toString('base64') };
    expect(await problems(verifyManifest(signed, fed.root.publicKey))).toEqual([
      'serviceLevels.daysToFix.critical: whole days from 1 to 3650, or null for none',
    ]);
  });

  it('refuses a severity the policy does not know', async () => {
    expect(
      await problems(signManifest(withLevels({ daysToFix: { urgent: 1 } }), fed.root)),
    ).toEqual([expect.stringMatching(/^serviceLevels\.daysToFix: .*urgent/)]);
  });
});
