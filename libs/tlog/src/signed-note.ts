import { loadSodium } from '@vitrine/crypto';
import { LogError } from './log-error.js';
import {
  checkKeyName,
  type NoteKey,
  type NoteSigner,
  SignatureType,
  strictBase64,
} from './note-keys.js';

/** The largest note vitrine parses: far above a checkpoint with a hundred cosignatures. */
export const MAX_NOTE_BYTES = 64 * 1024;
/** Signatures a note may carry (c2sp.org/signed-note: verifiers must take at least 16). */
export const MAX_NOTE_SIGNATURES = 100;

const SIGNATURE_PREFIX = '— ';

/** One signature line of a note: who claims to have signed, and the bytes after the key ID. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  readonly signature: Uint8Array;
}

/** A note split into its text and signature lines, none of them verified yet. */
export interface ParsedNote {
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** A signature that verified, with its cosignature time (POSIX seconds) when it has one. */
export interface VerifiedSignature {
  readonly key: NoteKey;
  readonly timestamp?: number;
}

/** A note whose signatures by known keys all verified, at least one of them. */
export interface OpenedNote extends ParsedNote {
  readonly verified: readonly VerifiedSignature[];
}

/**
 * Splits a signed note (c2sp.org/signed-note v1.0.0) into text and signatures: UTF-8, no
 * control characters but newline, the text ending in newline, then a blank line, then
 * `— <name> <base64(key ID ‖ signature)>` lines. The last blank line separates the two.
 */
export function parseNote(note: string | Uint8Array): ParsedNote {
  const text = typeof note === 'string' ? note : decodeUtf8(note);
  if (Buffer.byteLength(text) > MAX_NOTE_BYTES) {
    throw new LogError('malformed', `note is larger than ${MAX_NOTE_BYTES} bytes`);
  }
  if (hasControlCharacter(text)) {
    throw new LogError('malformed', 'note holds a control character');
  }
  const split = text.lastIndexOf('\n\n');
  if (split < 0 || !text.endsWith('\n')) throw new LogError('malformed', 'note has no signatures');
  const lines = text.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) {
    throw new LogError('malformed', `note has more than ${MAX_NOTE_SIGNATURES} signatures`);
  }
  return { text: text.slice(0, split + 1), signatures: lines.map(parseSignatureLine) };
}

function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(SIGNATURE_PREFIX)) throw new LogError('malformed', 'bad signature line');
  const fields = line.slice(SIGNATURE_PREFIX.length).split(' ');
  const bytes = fields.length === 2 ? strictBase64(fields[1] as string) : undefined;
  if (bytes === undefined || bytes.length < 5) {
    throw new LogError('malformed', 'bad signature line');
  }
  const name = fields[0] as string;
  checkKeyName(name);
  const keyId = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
  return { name, keyId, signature: bytes.subarray(4) };
}

/**
 * Verifies a note against the keys the caller trusts. Signatures by unknown keys are
 * ignored; a signature by a known key (same name and key ID) must verify, or the whole
 * note is refused; at least one must verify (c2sp.org/signed-note §Signatures).
 */
export async function openNote(
  note: string | Uint8Array,
  keys: readonly NoteKey[],
): Promise<OpenedNote> {
  const parsed = parseNote(note);
  const verified: VerifiedSignature[] = [];
  for (const sig of parsed.signatures) {
    const key = keys.find((k) => k.name === sig.name && k.keyId === sig.keyId);
    if (key === undefined) continue;
    verified.push(await verifySignature(key, parsed.text, sig.signature));
  }
  if (verified.length === 0) {
    throw new LogError('unknown-key', 'note is not signed by any trusted key');
  }
  return { ...parsed, verified };
}

async function verifySignature(
  key: NoteKey,
  text: string,
  signature: Uint8Array,
): Promise<VerifiedSignature> {
  const sodium = await loadSodium();
  const fail = () => new LogError('note-signature', `signature by ${key.name} does not verify`);
  if (key.type === SignatureType.ed25519) {
    if (signature.length !== 64) throw fail();
    if (!verifyEd25519(sodium, signature, utf8(text), key.publicKey)) throw fail();
    return { key };
  }
  if (signature.length !== 72) throw fail();
  const timestamp = new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0);
  if (timestamp > BigInt(Number.MAX_SAFE_INTEGER)) throw fail();
  const message = cosignedMessage(text, Number(timestamp));
  if (!verifyEd25519(sodium, signature.subarray(8), message, key.publicKey)) throw fail();
  return { key, timestamp: Number(timestamp) };
}

function verifyEd25519(
  sodium: Awaited<ReturnType<typeof loadSodium>>,
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  try {
    return sodium.crypto_sign_verify_detached(signature, message, publicKey);
  } catch {
    return false;
  }
}

/**
 * Signs note text with Ed25519 signers, returning the whole note. Text whose first line has
 * the shape `vitrine/<what>/<version>` is refused: that is the domain prefix of every other
 * signature a center makes with the same key (events, manifests), so a note can never stand
 * in for one of them. (A checkpoint's origin, `<federation>/<center>`, has one slash.)
 */
export async function signNote(text: string, signers: readonly NoteSigner[]): Promise<string> {
  checkNoteText(text);
  const sodium = await loadSodium();
  const lines = signers.map((signer) => {
    if (signer.type !== SignatureType.ed25519) {
      throw new LogError('malformed', `${signer.name} is not an Ed25519 note key`);
    }
    const sig = sodium.crypto_sign_detached(utf8(text), signer.secretKey);
    return signatureLine(signer, sig);
  });
  return `${text}\n${lines.join('')}`;
}

/**
 * A cosignature line for a checkpoint's note text (c2sp.org/tlog-cosignature v1.0.1,
 * Ed25519 `cosignature/v1`): the signer's statement that, at `timestamp` (POSIX seconds),
 * this is the largest consistent tree it has seen for the log.
 */
export async function cosignatureLine(
  text: string,
  signer: NoteSigner,
  timestamp: number,
): Promise<string> {
  checkNoteText(text);
  if (signer.type !== SignatureType.cosignatureV1) {
    throw new LogError('malformed', `${signer.name} is not a cosignature key`);
  }
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new LogError('malformed', 'a cosignature time is whole seconds');
  }
  const sodium = await loadSodium();
  const sig = sodium.crypto_sign_detached(cosignedMessage(text, timestamp), signer.secretKey);
  const stamped = new Uint8Array(72);
  new DataView(stamped.buffer).setBigUint64(0, BigInt(timestamp));
  stamped.set(sig, 8);
  return signatureLine(signer, stamped);
}

/** A note with more signature lines added after those it has. */
export function withSignatureLines(note: string, lines: readonly string[]): string {
  parseNote(note);
  return note + lines.join('');
}

function signatureLine(key: NoteKey, signature: Uint8Array): string {
  const bytes = new Uint8Array(4 + signature.length);
  new DataView(bytes.buffer).setUint32(0, key.keyId);
  bytes.set(signature, 4);
  return `${SIGNATURE_PREFIX}${key.name} ${Buffer.from(bytes).toString('base64')}\n`;
}

/** The message a cosignature/v1 signs: a header line, a time line, then the note text. */
function cosignedMessage(text: string, timestamp: number): Uint8Array {
  return utf8(`cosignature/v1\ntime ${timestamp}\n${text}`);
}

function checkNoteText(text: string): void {
  if (!text.endsWith('\n') || text.includes('\n\n') || text.startsWith('\n')) {
    throw new LogError('malformed', 'note text is lines, each ending in a newline, none empty');
  }
  if (hasControlCharacter(text)) {
    throw new LogError('malformed', 'note text holds a control character');
  }
  if (/^vitrine\/[^\n]*\//.test(text)) {
    throw new LogError('malformed', 'a first line vitrine/…/… is reserved for other signatures');
  }
  if (text.startsWith('cosignature/')) {
    // The cosignature/v1 message starts so: a note can never stand in for a cosignature.
    throw new LogError('malformed', 'a first line cosignature/… is reserved for cosignatures');
  }
}

/** Whether text holds an ASCII control character other than newline (signed-note §Format). */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) return true;
  }
  return false;
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new LogError('malformed', 'note is not UTF-8');
  }
}
