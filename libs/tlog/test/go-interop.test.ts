import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSodium } from '@vitrine/crypto';
import { tempDir } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  consistencyProof,
  cosignatureLine,
  formatCheckpoint,
  formatVerifierKey,
  inclusionProof,
  noteSigner,
  SignatureType,
  signNote,
  treeRoot,
  withSignatureLines,
} from '../src/index.js';
import { MemoryTree } from './memory-tree.js';

// Go's golang.org/x/mod/sumdb/{note,tlog}, from Debian's golang-golang-x-mod-dev, checks
// what vitrine signs and proves: an implementation that shares nothing with ours.
const goSources = '/usr/share/gocode';
const available =
  spawnSync('go', ['version']).status === 0 &&
  existsSync(`${goSources}/src/golang.org/x/mod/sumdb/note`);
if (!available && process.env.CI === 'true') {
  throw new Error(
    'CI needs Go and golang-golang-x-mod-dev (apt-get install golang-go golang-golang-x-mod-dev)',
  );
}

describe.skipIf(!available)('Go sumdb verifies vitrine checkpoints and proofs', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let verifier: string;
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

  beforeAll(async () => {
    dir = await tempDir('vitrine-go-');
    verifier = `${dir.path}/verify-log`;
    const source = fileURLToPath(new URL('./interop/verify-log.go', import.meta.url));
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
  }, 120_000);
  afterAll(() => dir?.cleanup());

  async function scenario(size: number) {
    const sodium = await loadSodium();
    const seed = (n: number) => sodium.crypto_sign_seed_keypair(new Uint8Array(32).fill(n));
    const pair = seed(3);
    const log = noteSigner('vitrine.example/europe', {
      publicKey: pair.publicKey,
      secretKey: pair.privateKey,
    });
    const wpair = seed(4);
    const witness = noteSigner(
      'vitrine.example/asia',
      { publicKey: wpair.publicKey, secretKey: wpair.privateKey },
      SignatureType.cosignatureV1,
    );
    const tree = new MemoryTree();
    const leaves = Array.from({ length: size }, (_, i) => Buffer.from(`signed event header ${i}`));
    for (let i = 0; i < size; i += 100) await tree.append(leaves.slice(i, i + 100));
    const text = formatCheckpoint({
      origin: log.name,
      size,
      root: await treeRoot(size, tree),
      extensions: [],
    });
    const note = withSignatureLines(await signNote(text, [log]), [
      await cosignatureLine(text, witness, 1_765_000_000),
    ]);
    const indexes = [0, 1, size >> 1, size - 2, size - 1];
    const inclusion = await Promise.all(
      indexes.map(async (index) => ({
        index,
        leaf: b64(leaves[index] as Buffer),
        proof: (await inclusionProof(index, size, tree)).map(b64),
      })),
    );
    const consistency = await Promise.all(
      [1, 2, 255, 256, 257, size - 1, size].map(async (old) => ({
        size: old,
        root: b64(await treeRoot(old, tree)),
        proof: (await consistencyProof(old, size, tree)).map(b64),
      })),
    );
    return { note, vkey: formatVerifierKey(log), inclusion, consistency };
  }

  function runGo(input: unknown) {
    return spawnSync(verifier, [], { input: JSON.stringify(input), encoding: 'utf8' });
  }

  it('opens the signed checkpoint and checks inclusion and consistency proofs', async () => {
    const input = await scenario(1000);
    const result = runGo(input);
    expect(result.stdout).toBe(
      'ok note vitrine.example/europe size 1000 signed by vitrine.example/europe\nok inclusion 5\nok consistency 7\n',
    );
    expect(result.status).toBe(0);
  });

  it('fails when the note or a proof is altered (the check can fail)', async () => {
    const input = await scenario(300);
    const alteredNote = runGo({ ...input, note: input.note.replace('\n300\n', '\n301\n') });
    expect(alteredNote.stdout).toMatch(/^FAIL note: /);
    const proof = [...(input.inclusion[2]?.proof ?? [])].reverse();
    const alteredProof = runGo({ ...input, inclusion: [{ ...input.inclusion[2], proof }] });
    expect(alteredProof.stdout).toMatch(/^ok note .*\nFAIL inclusion of 150/);
    expect(alteredProof.status).toBe(1);
  });
});
