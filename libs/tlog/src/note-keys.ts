import { sha256 } from '@vitrine/crypto';
import { LogError } from './log-error.js';

/** Signature types of C2SP signed-note this log uses. */
export const SignatureType = {
  /** Ed25519 over the note text (c2sp.org/signed-note). */
  ed25519: 0x01,
  /** Timestamped Ed25519 witness cosignature (c2sp.org/tlog-cosignature, cosignature/v1). */
  cosignatureV1: 0x04,
} as const;
export type SignatureType = (typeof SignatureType)[keyof typeof SignatureType];

/** A key a note may be verified against: its name, type and Ed25519 public key. */
export interface NoteKey {
  readonly name: string;
  readonly type: SignatureType;
  readonly publicKey: Uint8Array;
  /** SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4], big-endian (c2sp.org/signed-note). */
  readonly keyId: number;
}

/** A key that signs notes: a NoteKey with its libsodium secret key (seed ‖ public key). */
export interface NoteSigner extends NoteKey {
  readonly secretKey: Uint8Array;
}

/** The key ID of a (name, type, public key) triple (c2sp.org/signed-note §Signatures). */
export function keyIdOf(name: string, type: SignatureType, publicKey: Uint8Array): number {
  const digest = sha256(new TextEncoder().encode(`${name}\n`), new Uint8Array([type]), publicKey);
  return new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0);
}

/** A NoteKey for an Ed25519 public key under `name`. */
export function noteKey(
  name: string,
  publicKey: Uint8Array,
  type: SignatureType = SignatureType.ed25519,
): NoteKey {
  checkKeyName(name);
  if (publicKey.length !== 32) throw new LogError('malformed', 'an Ed25519 key is 32 bytes');
  return { name, type, publicKey, keyId: keyIdOf(name, type, publicKey) };
}

/** A NoteSigner from a libsodium Ed25519 key pair (64-byte secret key = seed ‖ public key). */
export function noteSigner(
  name: string,
  key: { publicKey: Uint8Array; secretKey: Uint8Array },
  type: SignatureType = SignatureType.ed25519,
): NoteSigner {
  return { ...noteKey(name, key.publicKey, type), secretKey: key.secretKey };
}

/**
 * The verifier key encoding, `<name>+<hex key ID>+<base64(type ‖ public key)>`, as
 * golang.org/x/mod/sumdb/note and c2sp.org/signed-note print it.
 */
export function formatVerifierKey(key: NoteKey): string {
  const material = Buffer.concat([Buffer.from([key.type]), key.publicKey]).toString('base64');
  return `${key.name}+${key.keyId.toString(16).padStart(8, '0')}+${material}`;
}

/** Parses a verifier key, checking that its key ID matches its name and key. */
export function parseVerifierKey(vkey: string): NoteKey {
  const parts = /^([^+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(vkey);
  if (parts === null) throw new LogError('malformed', 'a verifier key is name+id+key');
  const [, name, id, material] = parts as unknown as [string, string, string, string];
  const bytes = strictBase64(material);
  if (bytes === undefined || bytes.length !== 33) {
    throw new LogError('malformed', `verifier key of ${name} is malformed`);
  }
  const type = bytes[0];
  if (type !== SignatureType.ed25519 && type !== SignatureType.cosignatureV1) {
    throw new LogError('malformed', `verifier key of ${name} has an unsupported type`);
  }
  const key = noteKey(name, bytes.subarray(1), type);
  if (key.keyId !== Number.parseInt(id, 16)) {
    throw new LogError('malformed', `verifier key of ${name} names the wrong key ID`);
  }
  return key;
}

/**
 * Parses golang.org/x/mod/sumdb/note's private key encoding,
 * `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 ‖ seed)>`, given its key pair from the seed.
 */
export function parseSignerKey(
  skey: string,
  fromSeed: (seed: Uint8Array) => { publicKey: Uint8Array; secretKey: Uint8Array },
): NoteSigner {
  const parts = /^PRIVATE\+KEY\+([^+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(skey);
  if (parts === null) throw new LogError('malformed', 'a signer key is PRIVATE+KEY+name+id+key');
  const [, name, id, material] = parts as unknown as [string, string, string, string];
  const bytes = strictBase64(material);
  if (bytes === undefined || bytes.length !== 33 || bytes[0] !== SignatureType.ed25519) {
    throw new LogError('malformed', `signer key of ${name} is malformed`);
  }
  const signer = noteSigner(name, fromSeed(bytes.subarray(1)));
  if (signer.keyId !== Number.parseInt(id, 16)) {
    throw new LogError('malformed', `signer key of ${name} names the wrong key ID`);
  }
  return signer;
}

/** Key names are non-empty, without Unicode spaces or `+` (c2sp.org/signed-note §Format). */
export function checkKeyName(name: string): void {
  if (name.length === 0 || /[\s+\p{Z}]/u.test(name) || /\p{Cc}/u.test(name)) {
    throw new LogError('malformed', `key name ${JSON.stringify(name)} is not valid`);
  }
}

/** Standard base64 with padding, decoded only when canonical (re-encodes to itself). */
export function strictBase64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) return undefined;
  return new Uint8Array(bytes);
}
