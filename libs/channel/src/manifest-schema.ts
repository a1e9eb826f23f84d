import { FieldViolations, VitrineError } from '@vitrine/errors';
import { z } from 'zod';
import { serviceLevelsSchema } from './service-levels.js';

/** A 32-byte key as canonical standard base64 (44 characters, one `=`). */
const key32 = z.string().refine(isBase64Key32, 'base64 of a 32-byte key');

/** Only http(s) endpoints: every center service speaks gRPC over HTTP/2. */
const endpoint = z.url({ protocol: /^https?$/, error: 'an http(s) URL' });

const centerSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'lower-case letters, digits and -'),
    jurisdiction: z.string().regex(/^[A-Z][A-Z0-9_-]{1,15}$/, 'an upper-case code such as EU'),
    registry: endpoint,
    sync: endpoint,
    signingKey: key32,
    kxKey: key32,
  })
  .strict();

const tokenKeySchema = z.object({ keyId: z.string().min(1).max(128), publicKey: key32 }).strict();

/**
 * The federation manifest as JSON: who is in the federation, where each center's services
 * listen, which keys each center signs and agrees keys with, and which keys the access
 * service signs credentials with. Ids and keys must be unique so every lookup has one answer.
 */
export const manifestSchema = z
  .object({
    version: z.literal(1),
    federation: z.string().min(1).max(128),
    issuedAt: z.iso.datetime({ error: 'an ISO 8601 UTC timestamp' }),
    centers: z.array(centerSchema).min(1),
    access: z
      .object({
        url: endpoint,
        tokenKeys: z.array(tokenKeySchema),
        /**
         * The access service's long-term trust key: it signs trust snapshots, the access
         * log's decisions and its checkpoints (origin `<federation>/access`).
         */
        trustKey: key32.optional(),
      })
      .strict(),
    /**
     * Days to fix findings per severity, federation-wide and per jurisdiction; the
     * defaults (service-levels.ts) when absent. In the signed manifest so that every
     * center derives the same due dates.
     */
    serviceLevels: serviceLevelsSchema.optional(),
  })
  .strict()
  .superRefine((doc, ctx) => {
    const unique = (values: string[], path: (string | number)[], field: string) => {
      values.forEach((value, i) => {
        if (values.indexOf(value) !== i) {
          ctx.addIssue({ code: 'custom', message: `duplicate`, path: [...path, i, field] });
        }
      });
    };
    unique(
      doc.centers.map((c) => c.id),
      ['centers'],
      'id',
    );
    unique(
      doc.centers.map((c) => c.signingKey),
      ['centers'],
      'signingKey',
    );
    unique(
      doc.centers.map((c) => c.kxKey),
      ['centers'],
      'kxKey',
    );
    unique(
      doc.access.tokenKeys.map((k) => k.keyId),
      ['access', 'tokenKeys'],
      'keyId',
    );
  });

/** The manifest document a federation operator writes and the root key signs. */
export type FederationManifestDocument = z.infer<typeof manifestSchema>;

/**
 * Checks `input` against the manifest schema and throws one `invalid_argument` naming every
 * bad field (`centers.1.kxKey: base64 of a 32-byte key`); returns the typed document.
 */
export function assertManifestDocument(input: unknown): FederationManifestDocument {
  const result = manifestSchema.safeParse(input);
  if (result.success) return result.data;
  const violations = new FieldViolations();
  for (const issue of result.error.issues) {
    const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
    violations.add(path, issue.message);
  }
  violations.throwIfAny('federation manifest');
  throw new VitrineError('invalid_argument', 'invalid federation manifest');
}

/** True when `text` is the canonical base64 of exactly 32 bytes. */
function isBase64Key32(text: string): boolean {
  if (!/^[A-Za-z0-9+/]{43}=$/.test(text)) return false;
  return Buffer.from(text, 'base64').toString('base64') === text;
}

/** Decodes a base64 key the schema has already checked. */
export function decodeKey(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}
