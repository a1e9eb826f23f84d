/**
 * HChaCha20 (draft-irtf-cfrg-xchacha-03 §2.2), used only by the tests to turn the
 * XChaCha20-Poly1305 vectors in vectors/xchacha20poly1305 into ChaCha20-Poly1305 (RFC 8439) cases:
 * XChaCha20-Poly1305(key, nonce24) = ChaCha20-Poly1305(HChaCha20(key, nonce24[0..16]),
 * 00000000 ‖ nonce24[16..24]). Its own vector is checked in chacha20-poly1305.test.ts.
 */

/** RFC 8439 §2.1 quarter round on four words of `s`. */
function quarterRound(s: Uint32Array, a: number, b: number, c: number, d: number): void {
  const rotl = (v: number, n: number) => ((v << n) | (v >>> (32 - n))) >>> 0;
  s[a] = ((s[a] as number) + (s[b] as number)) >>> 0;
  s[d] = rotl((s[d] as number) ^ (s[a] as number), 16);
  s[c] = ((s[c] as number) + (s[d] as number)) >>> 0;
  s[b] = rotl((s[b] as number) ^ (s[c] as number), 12);
  s[a] = ((s[a] as number) + (s[b] as number)) >>> 0;
  s[d] = rotl((s[d] as number) ^ (s[a] as number), 8);
  s[c] = ((s[c] as number) + (s[d] as number)) >>> 0;
  s[b] = rotl((s[b] as number) ^ (s[c] as number), 7);
}

/** The 32-byte HChaCha20 subkey of a 32-byte key and a 16-byte nonce. */
export function hchacha20(key: Uint8Array, nonce16: Uint8Array): Uint8Array {
  const le = (bytes: Uint8Array, i: number) => Buffer.from(bytes).readUInt32LE(i * 4);
  const s = new Uint32Array(16);
  s.set([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
  for (let i = 0; i < 8; i++) s[4 + i] = le(key, i);
  for (let i = 0; i < 4; i++) s[12 + i] = le(nonce16, i);
  for (let round = 0; round < 10; round++) {
    quarterRound(s, 0, 4, 8, 12);
    quarterRound(s, 1, 5, 9, 13);
    quarterRound(s, 2, 6, 10, 14);
    quarterRound(s, 3, 7, 11, 15);
    quarterRound(s, 0, 5, 10, 15);
    quarterRound(s, 1, 6, 11, 12);
    quarterRound(s, 2, 7, 8, 13);
    quarterRound(s, 3, 4, 9, 14);
  }
  const out = Buffer.alloc(32);
  for (const [i, word] of [0, 1, 2, 3, 12, 13, 14, 15].entries()) {
    out.writeUInt32LE(s[word] as number, i * 4);
  }
  return new Uint8Array(out);
}
