import { createCipheriv, createDecipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hchacha20 } from './hchacha20.js';

// Sealed streams use node:crypto's ChaCha20-Poly1305 (RFC 8439). No published plain
// ChaCha20-Poly1305 vectors are kept here (see vectors/xchacha20poly1305/SOURCE.md), but XChaCha20-Poly1305
// vectors (draft-irtf-cfrg-xchacha-03 §A.3.1, libsodium's own test via PyNaCl, Wycheproof)
// reduce to ChaCha20-Poly1305 through HChaCha20, so they check the very cipher we use.
const vectors = new URL('./vectors/xchacha20poly1305/', import.meta.url);
const draft = JSON.parse(
  readFileSync(new URL('draft-irtf-cfrg-xchacha-03.json', vectors), 'utf8'),
) as {
  hchacha20: { key: string; nonce16: string; subkey: string }[];
  aead_xchacha20poly1305_ietf: {
    key: string;
    nonce24: string;
    aad: string;
    plaintext: string;
    ciphertext: string;
    tag: string;
  }[];
};
const wycheproof = JSON.parse(
  readFileSync(new URL('wycheproof_xchacha20_poly1305_test.json', vectors), 'utf8'),
) as {
  testGroups: {
    ivSize: number;
    tests: {
      tcId: number;
      key: string;
      iv: string;
      aad: string;
      msg: string;
      ct: string;
      tag: string;
      result: string;
    }[];
  }[];
};
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

/** XChaCha20-Poly1305 as HChaCha20 + node:crypto ChaCha20-Poly1305: ciphertext and tag, hex. */
function seal(key: string, nonce24: string, aad: string, msg: string): { ct: string; tag: string } {
  const { subkey, nonce } = reduce(key, nonce24);
  const cipher = createCipheriv('chacha20-poly1305', subkey, nonce, { authTagLength: 16 });
  cipher.setAAD(hex(aad), { plaintextLength: msg.length / 2 });
  const ct = Buffer.concat([cipher.update(hex(msg)), cipher.final()]);
  return { ct: ct.toString('hex'), tag: cipher.getAuthTag().toString('hex') };
}

/** Whether node:crypto opens the case, returning the plaintext when it does. */
function open(
  key: string,
  nonce24: string,
  aad: string,
  ct: string,
  tag: string,
): string | undefined {
  const { subkey, nonce } = reduce(key, nonce24);
  try {
    const decipher = createDecipheriv('chacha20-poly1305', subkey, nonce, { authTagLength: 16 });
    decipher.setAAD(hex(aad), { plaintextLength: ct.length / 2 });
    decipher.setAuthTag(hex(tag));
    return Buffer.concat([decipher.update(hex(ct)), decipher.final()]).toString('hex');
  } catch {
    return undefined;
  }
}

function reduce(key: string, nonce24: string): { subkey: Uint8Array; nonce: Uint8Array } {
  const n = hex(nonce24);
  const nonce = new Uint8Array(12);
  nonce.set(n.subarray(16), 4);
  return { subkey: hchacha20(hex(key), n.subarray(0, 16)), nonce };
}

describe('node:crypto ChaCha20-Poly1305 against the published vectors', () => {
  it('HChaCha20 matches draft-irtf-cfrg-xchacha-03 §2.2.1', () => {
    for (const v of draft.hchacha20) {
      expect(Buffer.from(hchacha20(hex(v.key), hex(v.nonce16))).toString('hex')).toBe(v.subkey);
    }
  });

  it('seals the §A.3.1 example exactly', () => {
    for (const v of draft.aead_xchacha20poly1305_ietf) {
      expect(seal(v.key, v.nonce24, v.aad, v.plaintext)).toEqual({ ct: v.ciphertext, tag: v.tag });
    }
  });

  it('seals libsodium’s own XChaCha20-Poly1305 test vector exactly', () => {
    const text = readFileSync(new URL('pynacl_xchacha20-poly1305-ietf_ref.txt', vectors), 'utf8');
    const field = (name: string) =>
      text.match(new RegExp(`^${name}: ([0-9a-f]*)$`, 'm'))?.[1] ?? '';
    expect(seal(field('KEY'), field('NONCE'), field('AD'), field('IN'))).toEqual({
      ct: field('CT'),
      tag: field('TAG'),
    });
  });

  it('agrees with every Wycheproof verdict for 192-bit nonces', () => {
    let valid = 0;
    let invalid = 0;
    for (const group of wycheproof.testGroups.filter((g) => g.ivSize === 192)) {
      for (const t of group.tests) {
        const opened = open(t.key, t.iv, t.aad, t.ct, t.tag);
        if (t.result === 'valid') {
          expect({ tcId: t.tcId, opened, sealed: seal(t.key, t.iv, t.aad, t.msg) }).toEqual({
            tcId: t.tcId,
            opened: t.msg,
            sealed: { ct: t.ct, tag: t.tag },
          });
          valid++;
        } else {
          expect({ tcId: t.tcId, opened }).toEqual({ tcId: t.tcId, opened: undefined });
          invalid++;
        }
      }
    }
    expect({ valid, invalid }).toEqual({ valid: 246, invalid: 60 });
  });
});
