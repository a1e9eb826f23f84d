/**
 * Throughput of the sealed channel between centers, against the two AEADs it could have
 * been built on, measured in the same run:
 *
 *   npx tsx bench/channel.ts [MiB] [handshakes]
 *
 * Each throughput case seals and then opens `MiB` frames of 1 MiB (default 1024, i.e.
 * 1 GiB) of random bytes, one frame at a time, nothing kept:
 * - "sealed stream": @vitrine/channel's Session sender → receiver (node:crypto
 *   ChaCha20-Poly1305, counter nonce, flags byte, one copy to assemble each frame);
 * - "raw chacha20-poly1305": bare createCipheriv/createDecipheriv with the same nonce and
 *   AAD, the floor the sealed stream can reach;
 * - "libsodium secretstream": crypto_secretstream_xchacha20poly1305 push → pull (WASM).
 * Each case runs 3 times; medians are printed as MB/s by wall clock and per CPU-second
 * (steadier on a busy machine), each with its ratio to raw chacha20-poly1305. Then
 * `handshakes` full handshakes (initiate, respond, complete; default 200), 3 times, as
 * handshakes per second.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import {
  type FederationManifest,
  generateCenterKeys,
  HandshakeReplays,
  initiateHandshake,
  respondToHandshake,
  type Session,
  signManifest,
  verifyManifest,
} from '@vitrine/channel';
import { generateSigningKeyPair, loadSodium, type SigningKeyPair } from '@vitrine/crypto';
import { median } from './measure.js';

const MiB = 1024 * 1024;
const RUNS = 3;

/** A two-center federation and one handshake between them. */
interface Federation {
  readonly manifest: FederationManifest;
  readonly asia: SigningKeyPair;
  readonly europe: SigningKeyPair;
}

async function federation(): Promise<Federation> {
  const [asia, europe] = [await generateCenterKeys(), await generateCenterKeys()];
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  const center = (id: string, jurisdiction: string, keys: typeof asia) => ({
    id,
    jurisdiction,
    registry: `https://registry.${id}.example`,
    sync: `https://sync.${id}.example`,
    signingKey: b64(keys.signing.publicKey),
    kxKey: b64(keys.kx.publicKey),
  });
  const root = await generateSigningKeyPair();
  const signed = await signManifest(
    {
      version: 1,
      federation: 'bench',
      issuedAt: new Date().toISOString(),
      centers: [center('asia', 'APAC', asia), center('europe', 'EU', europe)],
      access: { url: 'https://access.example', tokenKeys: [] },
    },
    root,
  );
  const manifest = await verifyManifest(signed, root.publicKey);
  return { manifest, asia: asia.signing, europe: europe.signing };
}

/** One full handshake; returns both sides' sessions. */
async function handshake(f: Federation): Promise<[Session, Session]> {
  const { manifest } = f;
  const pending = await initiateHandshake({
    manifest,
    self: { id: 'asia', signingKey: f.asia },
    peerId: 'europe',
  });
  const { response, session } = await respondToHandshake({
    manifest,
    self: { id: 'europe', signingKey: f.europe },
    request: pending.request,
    replays: new HandshakeReplays(),
  });
  return [await pending.complete(response), session];
}

let streams = 0;

/** Seals and opens `frames` frames of `frame` through a fresh sealed stream. */
async function sealedStream(f: Federation, frame: Uint8Array, frames: number): Promise<void> {
  const [asia, europe] = await handshake(f);
  const label = `bench:${streams++}`;
  const sender = asia.sender(label);
  const receiver = europe.receiver(label);
  for (let i = 0; i < frames; i++) {
    const opened = receiver.open(sender.seal(frame, { final: i === frames - 1 }));
    if (opened.plaintext.length !== frame.length) throw new Error('sealed stream lost bytes');
  }
  receiver.assertEnded();
}

/** The same work with bare node:crypto calls and no framing. */
async function rawChaCha(_f: Federation, frame: Uint8Array, frames: number): Promise<void> {
  const key = randomBytes(32);
  for (let i = 0; i < frames; i++) {
    const nonce = Buffer.alloc(12);
    nonce.writeBigUInt64BE(BigInt(i), 4);
    const aad = nonce.subarray(4);
    const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    cipher.setAAD(aad, { plaintextLength: frame.length });
    const body = cipher.update(frame);
    cipher.final();
    const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    decipher.setAAD(aad, { plaintextLength: body.length });
    decipher.setAuthTag(cipher.getAuthTag());
    if (decipher.update(body).length !== frame.length) throw new Error('raw lost bytes');
    decipher.final();
  }
}

/** The same work with libsodium's secretstream (WASM). */
async function secretstream(_f: Federation, frame: Uint8Array, frames: number): Promise<void> {
  const sodium = await loadSodium();
  const key = sodium.crypto_secretstream_xchacha20poly1305_keygen();
  const { state, header } = sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
  const pull = sodium.crypto_secretstream_xchacha20poly1305_init_pull(header, key);
  const { TAG_MESSAGE, TAG_FINAL } = {
    TAG_MESSAGE: sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
    TAG_FINAL: sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL,
  };
  for (let i = 0; i < frames; i++) {
    const tag = i === frames - 1 ? TAG_FINAL : TAG_MESSAGE;
    const sealed = sodium.crypto_secretstream_xchacha20poly1305_push(state, frame, null, tag);
    const opened = sodium.crypto_secretstream_xchacha20poly1305_pull(pull, sealed, null);
    if (!opened || opened.message.length !== frame.length)
      throw new Error('secretstream lost bytes');
  }
}

/** Medians of RUNS runs: wall seconds and CPU seconds. */
async function measure(run: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    await run();
    const used = process.cpuUsage(cpuStart);
    wall.push((performance.now() - start) / 1000);
    cpu.push((used.user + used.system) / 1e6);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

const CASES = [
  { name: 'raw chacha20-poly1305 (node:crypto)', run: rawChaCha },
  { name: 'sealed stream (@vitrine/channel)', run: sealedStream },
  { name: 'libsodium secretstream xchacha20poly1305', run: secretstream },
] as const;

async function main(): Promise<void> {
  const mib = Number(process.argv[2] ?? 1024);
  const handshakes = Number(process.argv[3] ?? 200);
  if (![mib, handshakes].every((n) => Number.isInteger(n) && n >= 1)) {
    throw new Error('usage: bench/channel.ts [MiB ≥ 1] [handshakes ≥ 1]');
  }
  const f = await federation();
  const frame = randomBytes(MiB);
  console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}`);
  console.log(`seal+open of ${mib} frames of 1 MiB; median of ${RUNS} runs; MB = 10^6 bytes`);
  console.log(`${'case'.padEnd(42)}  MB/s (wall)   MB/CPU-s   (ratios against raw)`);
  let base = { wall: Number.NaN, cpu: Number.NaN };
  for (const c of CASES) {
    const t = await measure(() => c.run(f, frame, mib));
    const rate = { wall: (mib * MiB) / 1e6 / t.wall, cpu: (mib * MiB) / 1e6 / t.cpu };
    if (c.run === rawChaCha) base = rate;
    const ratio = (v: number, b: number) => `${(v / b).toFixed(2)}x`;
    console.log(
      `${c.name.padEnd(42)} ${rate.wall.toFixed(0).padStart(6)} ${ratio(rate.wall, base.wall).padStart(6)}` +
        ` ${rate.cpu.toFixed(0).padStart(7)} ${ratio(rate.cpu, base.cpu).padStart(6)}`,
    );
  }
  const t = await measure(async () => {
    for (let i = 0; i < handshakes; i++) await handshake(f);
  });
  console.log(
    `handshakes (initiate + respond + complete): ${(handshakes / t.wall).toFixed(0)}/s wall, ` +
      `${(handshakes / t.cpu).toFixed(0)} per CPU-s (${handshakes} per run)`,
  );
}

await main();
