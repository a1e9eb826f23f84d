import { readFileSync } from 'node:fs';
import {
  createRegistry,
  type DescMessage,
  fromBinary,
  fromJson,
  toBinary,
} from '@bufbuild/protobuf';
import { loadSodium, fromHex as maybeFromHex, toHex } from '@vitrine/crypto';
import { file_vitrine_access_v1_access } from '@vitrine/proto/access';
import { file_vitrine_registry_v1_registry } from '@vitrine/proto/registry';
import { describe, expect, it } from 'vitest';
import {
  MemoryReplayGuard,
  PROOF_DOMAIN,
  proofMessage,
  requestDigest,
  signProof,
  verifyProof,
} from '../src/index.js';

/** The published vectors (docs/proof-of-possession.md §8), also checked by test/interop. */
const vectors = JSON.parse(
  readFileSync(new URL('./vectors/proof-v2.json', import.meta.url), 'utf8'),
) as {
  domain: string;
  holder: { seed_hex: string; public_key_hex: string };
  cases: {
    name: string;
    audience: string;
    procedure: string;
    binding: string;
    request_type: string;
    request_json: Record<string, unknown>;
    request_hex: string;
    request_digest_hex: string;
    time_ms: number;
    nonce_hex: string;
    nonce_b64url: string;
    message: string;
    signature_b64url: string;
    header: string;
  }[];
  refusals: {
    name: string;
    case: number;
    header?: string;
    request_hex?: string;
    verifier_audience: string;
    verifier_time_ms: number;
    error: string;
  }[];
};

/** Hex from the vectors file, which is well-formed. */
function fromHex(hex: string): Uint8Array {
  const bytes = maybeFromHex(hex);
  if (!bytes) throw new Error(`not hex: ${hex}`);
  return bytes;
}

const registry = createRegistry(file_vitrine_registry_v1_registry, file_vitrine_access_v1_access);
const schemaOf = (typeName: string) => registry.getMessage(typeName) as DescMessage;
const sodium = await loadSodium();
const seeded = sodium.crypto_sign_seed_keypair(fromHex(vectors.holder.seed_hex));
const holder = { publicKey: seeded.publicKey, secretKey: seeded.privateKey };

/** The digest a verifier takes: decode the bytes received, re-encode deterministically. */
const digestOfWire = (typeName: string, hex: string) =>
  requestDigest(schemaOf(typeName), fromBinary(schemaOf(typeName), fromHex(hex)));

describe('proof of possession test vectors (vitrine/proof/v2)', () => {
  it('use the domain and the holder key they name', () => {
    expect(vectors.domain).toBe(PROOF_DOMAIN);
    expect(toHex(holder.publicKey)).toBe(vectors.holder.public_key_hex);
  });

  for (const c of vectors.cases) {
    it(c.name, async () => {
      const schema = schemaOf(c.request_type);
      const request = fromJson(schema, c.request_json as never, { registry });
      expect(toHex(toBinary(schema, request))).toBe(c.request_hex);
      const digest = requestDigest(schema, request);
      expect(toHex(digest)).toBe(c.request_digest_hex);
      expect(
        toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', fromHex(c.request_hex)))),
      ).toBe(c.request_digest_hex);
      const subject = {
        audience: c.audience,
        procedure: c.procedure,
        binding: c.binding,
        requestDigest: digest,
      };
      expect(Buffer.from(fromHex(c.nonce_hex)).toString('base64url')).toBe(c.nonce_b64url);
      expect(new TextDecoder().decode(proofMessage(subject, c.time_ms, c.nonce_b64url))).toBe(
        c.message,
      );
      const header = await signProof(subject, holder, c.time_ms, fromHex(c.nonce_hex));
      expect(header).toBe(c.header);
      expect(header.split('.')[4]).toBe(c.signature_b64url);
      const check = {
        publicKey: holder.publicKey,
        now: c.time_ms,
        replays: new MemoryReplayGuard(),
      };
      await expect(verifyProof(c.header, subject, check)).resolves.toBeUndefined();
    });
  }

  for (const r of vectors.refusals) {
    it(`refuses ${r.name}`, async () => {
      const c = vectors.cases[r.case] as (typeof vectors.cases)[number];
      const subject = {
        audience: r.verifier_audience,
        procedure: c.procedure,
        binding: c.binding,
        requestDigest: digestOfWire(c.request_type, r.request_hex ?? c.request_hex),
      };
      const check = {
        publicKey: holder.publicKey,
        now: r.verifier_time_ms,
        replays: new MemoryReplayGuard(),
      };
      await expect(verifyProof(r.header ?? c.header, subject, check)).rejects.toMatchObject({
        code: 'unauthenticated',
        message: r.error,
      });
    });
  }

  it('digest what a message says, not how a client wrote it on the wire', () => {
    const [get, , , , list] = vectors.cases as [
      (typeof vectors.cases)[number],
      unknown,
      unknown,
      unknown,
      (typeof vectors.cases)[number],
    ];
    // An unknown field (15, varint 1) appended: ignored by the verifier's re-encoding.
    expect(toHex(digestOfWire(get.request_type, `${get.request_hex}7801`))).toBe(
      get.request_digest_hex,
    );
    // partner_id written explicitly at its default (""), then page_size: same message.
    expect(toHex(digestOfWire(list.request_type, `0a00${list.request_hex}`))).toBe(
      list.request_digest_hex,
    );
    // Fields out of number order: same message.
    const push = vectors.cases[2] as (typeof vectors.cases)[number];
    const meta = fromBinary(schemaOf(push.request_type), fromHex(push.request_hex));
    expect(meta.$typeName).toBe('vitrine.registry.v1.PushArtifactRequest');
    const reordered =
      '0a3c1a05372e322e30080112056167656e74220245552204415041433220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    expect(toHex(digestOfWire(push.request_type, reordered))).toBe(push.request_digest_hex);
  });
});
