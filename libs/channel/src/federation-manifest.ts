import { type SigningKeyPair, signDetached, verifyDetached } from '@vitrine/crypto';
import { FieldViolations } from '@vitrine/errors';
import {
  assertManifestDocument,
  decodeKey,
  type FederationManifestDocument,
} from './manifest-schema.js';
import { resolveServiceLevels, type ServiceLevelPolicy } from './service-levels.js';

/** Domain of the federation root's signature over the manifest text. */
const MANIFEST_DOMAIN = 'vitrine/federation-manifest/v1\n';

/**
 * A manifest as distributed: the exact JSON text and the root's Ed25519 signature over
 * `vitrine/federation-manifest/v1\n ‖ UTF-8(manifest)`. The text travels as signed, so no
 * re-serialisation can ever change what was signed.
 */
export interface SignedManifest {
  readonly manifest: string;
  /** Standard base64 of the 64-byte Ed25519 signature. */
  readonly signature: string;
}

/** One member center, with its keys decoded; a peer accepts only these keys for it. */
export interface FederationCenter {
  readonly id: string;
  readonly jurisdiction: string;
  readonly registry: string;
  readonly sync: string;
  /** Long-term Ed25519 key: signs the center's events, checkpoints and handshakes. */
  readonly signingKey: Uint8Array;
  /** Long-term X25519 key-exchange key (libsodium `crypto_kx`). */
  readonly kxKey: Uint8Array;
}

/** A key the access service signs credentials (PASETO v4.public) with. */
export interface AccessTokenKey {
  readonly keyId: string;
  readonly publicKey: Uint8Array;
}

/**
 * A verified manifest: the root signed it, it is well formed, and it is frozen. Centers
 * decide whom to talk to and which keys to accept from it alone.
 */
export interface FederationManifest {
  readonly version: 1;
  readonly federation: string;
  readonly issuedAt: string;
  readonly centers: readonly FederationCenter[];
  readonly access: {
    readonly url: string;
    readonly tokenKeys: readonly AccessTokenKey[];
    /** The access service's trust key (snapshots, access log), when the manifest names it. */
    readonly trustKey?: Uint8Array;
  };
  /** Days to fix findings per severity (the manifest's section, defaults filled in). */
  readonly serviceLevels: ServiceLevelPolicy;
  /** The exact signed text, for passing the manifest on to others unchanged. */
  readonly text: string;
  /** The member with this id; undefined when the federation has none. */
  center(id: string): FederationCenter | undefined;
  /** The member whose Ed25519 signing key this is; undefined when none is. */
  centerBySigningKey(publicKey: Uint8Array): FederationCenter | undefined;
}

/**
 * Signs a manifest document with the federation root key. The document is validated first
 * (`invalid_argument` naming each bad field) and serialised canonically (object keys
 * sorted, no whitespace: RFC 8785 for the strings and small integers a manifest holds), so
 * the same document always yields the same text.
 */
export async function signManifest(
  document: FederationManifestDocument,
  rootKey: SigningKeyPair,
): Promise<SignedManifest> {
  const manifest = canonicalJson(assertManifestDocument(document));
  const signature = await signDetached(rootKey, MANIFEST_DOMAIN, utf8(manifest));
  return { manifest, signature: Buffer.from(signature).toString('base64') };
}

/**
 * Verifies a signed manifest against the federation root public key, in this order: the
 * envelope's shape (`invalid_argument`), the root's signature (`unauthenticated`; nothing
 * in the text is read before it passes), then the document (`invalid_argument` naming each
 * bad field, including text that is not in canonical form).
 */
export async function verifyManifest(
  signed: SignedManifest,
  rootPublicKey: Uint8Array,
): Promise<FederationManifest> {
  new FieldViolations()
    .check(typeof signed?.manifest === 'string', 'manifest', 'must be a string')
    .check(typeof signed?.signature === 'string', 'signature', 'must be a string')
    .throwIfAny('signed federation manifest');
  const signature = new Uint8Array(Buffer.from(signed.signature, 'base64'));
  await verifyDetached(
    rootPublicKey,
    MANIFEST_DOMAIN,
    utf8(signed.manifest),
    signature,
    'unauthenticated',
  );
  const document = assertManifestDocument(parseJson(signed.manifest));
  new FieldViolations()
    .check(canonicalJson(document) === signed.manifest, 'manifest', 'not in canonical form')
    .throwIfAny('federation manifest');
  return buildManifest(document, signed.manifest);
}

/** Decodes the keys and freezes the manifest with its lookup tables. */
function buildManifest(document: FederationManifestDocument, text: string): FederationManifest {
  const centers = document.centers.map((c) =>
    Object.freeze({ ...c, signingKey: decodeKey(c.signingKey), kxKey: decodeKey(c.kxKey) }),
  );
  const byId = new Map(centers.map((c) => [c.id, c]));
  const bySigningKey = new Map(centers.map((c) => [base64(c.signingKey), c]));
  const tokenKeys = document.access.tokenKeys.map((k) =>
    Object.freeze({ keyId: k.keyId, publicKey: decodeKey(k.publicKey) }),
  );
  return Object.freeze({
    version: document.version,
    federation: document.federation,
    issuedAt: document.issuedAt,
    centers: Object.freeze(centers),
    access: Object.freeze({
      url: document.access.url,
      tokenKeys: Object.freeze(tokenKeys),
      ...(document.access.trustKey ? { trustKey: decodeKey(document.access.trustKey) } : {}),
    }),
    serviceLevels: resolveServiceLevels(document.serviceLevels),
    text,
    center: (id: string) => byId.get(id),
    centerBySigningKey: (publicKey: Uint8Array) => bySigningKey.get(base64(publicKey)),
  });
}

/** JSON with object keys sorted and no whitespace (RFC 8785 for strings and integers). */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Parses the signed text; text that is not JSON is an `invalid_argument`. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    new FieldViolations().add('manifest', 'not JSON').throwIfAny('federation manifest');
    return undefined;
  }
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
