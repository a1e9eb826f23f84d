import { generateSigningKeyPair, type SigningKeyPair } from '@vitrine/crypto';
import {
  type CenterIdentity,
  type CenterKeys,
  type FederationManifest,
  type FederationManifestDocument,
  generateCenterKeys,
  HandshakeReplays,
  type HandshakeRequest,
  initiateHandshake,
  type PendingHandshake,
  type RandomSource,
  respondToHandshake,
  type Session,
  type SignedManifest,
  signManifest,
  verifyManifest,
} from '../src/index.js';

/** One member of a test federation: its keys and its identity for handshakes. */
export interface TestCenter {
  readonly id: string;
  readonly keys: CenterKeys;
  readonly identity: CenterIdentity;
}

/** A whole test federation: root key, members, and the manifest in every form. */
export interface TestFederation {
  readonly root: SigningKeyPair;
  readonly centers: Readonly<Record<string, TestCenter>>;
  readonly document: FederationManifestDocument;
  readonly signed: SignedManifest;
  readonly manifest: FederationManifest;
}

const JURISDICTIONS: Record<string, string> = { asia: 'APAC', europe: 'EU', us: 'US' };

/** Fresh keys for each id, as a center would have after `generateCenterKeys`. */
export async function testCenters(ids: readonly string[]): Promise<Record<string, TestCenter>> {
  const out: Record<string, TestCenter> = {};
  for (const id of ids) {
    const keys = await generateCenterKeys();
    out[id] = { id, keys, identity: { id, signingKey: keys.signing } };
  }
  return out;
}

/** The manifest document listing `centers` (ports are placeholders; nothing listens). */
export function manifestDocument(
  centers: Readonly<Record<string, TestCenter>>,
  tokenKey: Uint8Array,
): FederationManifestDocument {
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  return {
    version: 1,
    federation: 'vitrine-test',
    issuedAt: '2025-01-15T09:30:00.000Z',
    centers: Object.values(centers).map((c, i) => ({
      id: c.id,
      jurisdiction: JURISDICTIONS[c.id] ?? 'XX',
      registry: `http://127.0.0.1:${7100 + i}`,
      sync: `https://sync.${c.id}.example:${7200 + i}`,
      signingKey: b64(c.keys.signing.publicKey),
      kxKey: b64(c.keys.kx.publicKey),
    })),
    access: {
      url: 'https://access.example',
      tokenKeys: [{ keyId: 'k1', publicKey: b64(tokenKey) }],
    },
  };
}

/**
 * A federation of asia, europe and us (or `ids`) under a fresh root key, its manifest
 * signed and verified through the public API.
 */
export async function testFederation(
  ids: readonly string[] = ['asia', 'europe', 'us'],
  centers?: Readonly<Record<string, TestCenter>>,
): Promise<TestFederation> {
  const root = await generateSigningKeyPair();
  const members = centers ?? (await testCenters(ids));
  const document = manifestDocument(members, (await generateSigningKeyPair()).publicKey);
  const signed = await signManifest(document, root);
  const manifest = await verifyManifest(signed, root.publicKey);
  return { root, centers: members, document, signed, manifest };
}

/** The center `id` of a federation, failing the test loudly when it is missing. */
export function member(federation: TestFederation, id: string): TestCenter {
  const center = federation.centers[id];
  if (!center) throw new Error(`no test center ${id}`);
  return center;
}

/** `from` starts a handshake with `to` under the federation's real manifest. */
export function startHandshake(
  federation: TestFederation,
  from: string,
  to: string,
  random?: RandomSource,
): Promise<PendingHandshake> {
  return initiateHandshake({
    manifest: federation.manifest,
    self: member(federation, from).identity,
    peerId: to,
    ...(random ? { random } : {}),
  });
}

/**
 * `to` answers `request` under the federation's real manifest, with the replay cache
 * given (a fresh one, remembering nothing, unless a test passes its own).
 */
export function answerHandshake(
  federation: TestFederation,
  to: string,
  request: HandshakeRequest,
  random?: RandomSource,
  replays = new HandshakeReplays(),
  now?: () => number,
): ReturnType<typeof respondToHandshake> {
  return respondToHandshake({
    manifest: federation.manifest,
    self: member(federation, to).identity,
    request,
    replays,
    ...(now ? { now } : {}),
    ...(random ? { random } : {}),
  });
}

/** A full handshake from `from` to `to`: the initiator's and the responder's sessions. */
export async function sessionPair(
  federation: TestFederation,
  from = 'asia',
  to = 'europe',
): Promise<{ initiator: Session; responder: Session }> {
  const pending = await startHandshake(federation, from, to);
  const { response, session } = await answerHandshake(federation, to, pending.request);
  return { initiator: await pending.complete(response), responder: session };
}

/** A manifest an attacker signed with its own root, naming `centers` as it likes. */
export async function forgedManifest(
  centers: Record<string, TestCenter>,
): Promise<FederationManifest> {
  return (await testFederation(Object.keys(centers), centers)).manifest;
}

/** A copy of `bytes` with the lowest bit of byte `index` flipped. */
export function flipped(bytes: Uint8Array, index = 0): Uint8Array {
  const out = new Uint8Array(bytes);
  out[index] = (out[index] ?? 0) ^ 1;
  return out;
}
