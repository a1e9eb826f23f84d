import { execFile, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ACTIONS, ANY_JURISDICTION, ARTIFACT_KINDS, issueCredential } from '@vitrine/credentials';
import { loadSodium } from '@vitrine/crypto';
import { testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRegistry, type TestRegistry } from '../../services/registry/test/harness.js';

/**
 * An independent implementation of the proof (Python: PyNaCl and grpcio from Debian, no
 * protobuf library) signs real gRPC calls to a real registry and checks the published
 * vectors. Debian's python3 is used, not whatever `python3` is first on PATH.
 */
const PYTHON = '/usr/bin/python3';
const CLIENT = fileURLToPath(new URL('./pop_client.py', import.meta.url));
const VECTORS = fileURLToPath(
  new URL('../../libs/credentials/test/vectors/proof-v2.json', import.meta.url),
);
const NEEDS = `${PYTHON} with nacl and grpc (apt-get install python3-nacl python3-grpcio)`;

const probe = spawnSync(PYTHON, ['-c', 'import nacl.signing, grpc'], { encoding: 'utf8' });
const missing = probe.status === 0 ? undefined : (probe.stderr || String(probe.error)).trim();
const ci = !['', '0', 'false', undefined].includes(process.env.CI);

/** Runs the Python client with `args`, `input` on stdin; its stdout parsed as JSON. */
function python(args: string[], input = ''): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, [CLIENT, ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      err
        ? reject(new Error(`pop_client.py ${args[0]} failed: ${stderr || err.message}`))
        : resolve(JSON.parse(stdout)),
    );
    child.stdin?.end(input);
  });
}

describe('proof of possession made by an independent implementation (Python)', () => {
  if (missing !== undefined) {
    if (ci) it(`needs ${NEEDS}`, () => expect.fail(`${NEEDS}: ${missing}`));
    else it.skip(`skipped: needs ${NEEDS} — ${missing.split('\n').pop()}`, () => {});
    return;
  }
  let t: TestRegistry;

  beforeAll(async () => {
    t = await startTestRegistry(testBackends()[0] as ReturnType<typeof testBackends>[number]);
  });
  afterAll(() => t?.cleanup());

  it('reproduces every published vector and refusal', async () => {
    const vectors = JSON.parse(readFileSync(VECTORS, 'utf8'));
    const expected = vectors.cases.length + vectors.refusals.length;
    expect(await python(['vectors', VECTORS])).toEqual({ vectors_checked: expected });
  });

  it('pushes, reads and pulls at a real registry, each call signed in Python', async () => {
    const sodium = await loadSodium();
    const seed = new Uint8Array(randomBytes(32));
    const holder = sodium.crypto_sign_seed_keypair(seed);
    const now = Date.now();
    const credential = await issueCredential(
      {
        id: `op-${randomUUID()}`,
        subject: { kind: 'operator', id: 'interop' },
        audience: ['europe'],
        jurisdiction: ANY_JURISDICTION,
        scope: { kinds: [...ARTIFACT_KINDS], products: [], artifacts: [], actions: [...ACTIONS] },
        roles: ['operator'],
        issuedAt: new Date(now),
        notBefore: new Date(now),
        expiresAt: new Date(now + 3_600_000),
        holderKey: holder.publicKey,
      },
      t.trust.tokenSigner,
    );
    const target = new URL(t.registry.url).host;
    const seedHex = Buffer.from(seed).toString('hex');
    const input = JSON.stringify({ target, center: 'europe', credential, seed_hex: seedHex });
    const result = await python(['call'], input);
    expect(result.got_id).toBe(result.pushed_id);
    expect(result.pulled_sha256).toBe(result.content_sha256);
    const { artifact } = await t.client.getArtifact({ id: String(result.pushed_id) });
    expect(artifact).toMatchObject({ product: 'interop', contentDigest: result.content_sha256 });
    expect(result.replayed).toEqual(['UNAUTHENTICATED', 'proof of possession was replayed']);
    expect(result.misdirected).toEqual([
      'UNAUTHENTICATED',
      'proof of possession is for asia, not europe',
    ]);
  });
});
