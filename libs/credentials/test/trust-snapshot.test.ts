import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { generateSigningKeyPair } from '@vitrine/crypto';
import { TrustSnapshotSchema } from '@vitrine/proto/access';
import { describe, expect, it } from 'vitest';
import {
  decodeSignedSnapshot,
  encodeSignedSnapshot,
  keyIdOf,
  signTrustSnapshot,
  verifyTrustSnapshot,
} from '../src/index.js';

async function snapshot() {
  const token = await generateSigningKeyPair();
  return create(TrustSnapshotSchema, {
    version: 7n,
    keys: [{ keyId: await keyIdOf(token.publicKey), publicKey: token.publicKey }],
    revokedCredentialIds: ['cred-9'],
    at: timestampFromDate(new Date('2026-11-28T10:00:00Z')),
  });
}

describe('signed trust snapshots', () => {
  it('verify under the trust key and decode to what was signed', async () => {
    const trust = await generateSigningKeyPair();
    const signed = await signTrustSnapshot(await snapshot(), trust);
    const read = await verifyTrustSnapshot(
      decodeSignedSnapshot(encodeSignedSnapshot(signed)),
      trust.publicKey,
    );
    expect(read.version).toBe(7n);
    expect(read.revokedCredentialIds).toEqual(['cred-9']);
  });

  it('are refused UNAUTHENTICATED under another key or when a byte changed', async () => {
    const trust = await generateSigningKeyPair();
    const other = await generateSigningKeyPair();
    const signed = await signTrustSnapshot(await snapshot(), trust);
    await expect(verifyTrustSnapshot(signed, other.publicKey)).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    const altered = signed.snapshot.slice();
    altered[altered.length - 1] ^= 1;
    await expect(
      verifyTrustSnapshot({ ...signed, snapshot: altered }, trust.publicKey),
    ).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('a file that is not a signed snapshot is DATA_LOSS', () => {
    expect(() => decodeSignedSnapshot(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(
      expect.objectContaining({ code: 'data_loss' }),
    );
  });
});
