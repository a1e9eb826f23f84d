import { constants } from 'node:fs';
import { access as accessFile, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { trustKeyPath } from '@vitrine/access';
import {
  type FederationManifest,
  serviceLevelsSchema,
  signManifest,
  verifyManifest,
} from '@vitrine/channel';
import { ARTIFACT_KINDS, ROLES } from '@vitrine/credentials';
import {
  generateSigningKeyPair,
  loadOrCreateKeyFile,
  readKeyFile,
  writeKeyFile,
} from '@vitrine/crypto';
import { isVitrineError } from '@vitrine/errors';
import type { Command } from 'commander';
import { z } from 'zod';
import { CliError, usageError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import type { CommandGroup } from './command-group.js';
import { type FederationFile, vitrineHome } from './endpoints.js';
import {
  base64,
  type CenterPublic,
  centerKeyPaths,
  prepareCenterKeys,
} from './federation-setup.js';
import { writeResult } from './output.js';
import { createProfile, profileExists, profileNameOf } from './profile.js';
import { requireReadable } from './readable-file.js';
import { runCommand } from './run-command.js';

/**
 * Setting up a federation on real machines, each step on the host that owns the key:
 *
 *   federation init      (offline root host)  root key + empty draft manifest
 *   center init          (each center host)   center keys, prints center-public.json
 *   access init          (access host)        trust key, prints access-public.json
 *   operator init        (each operator)      operator key in a CLI profile, prints the account
 *   federation add-center / sign (root host) the signed manifest from the public parts
 *   config center / config access (each host) `vitrine serve` config files, checked
 *
 * Nothing secret leaves a host: only `*-public.json`, account files, the draft and the
 * signed manifest travel. docs/deployment.md walks through it.
 */

const KEY32 = /^[A-Za-z0-9+/]{43}=$/;
const CENTER_ID = /^[a-z][a-z0-9-]{0,31}$/;
const JURISDICTION = /^[A-Z][A-Z0-9_-]{1,15}$/;
const FEDERATION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const OPERATOR = /^[a-z][a-z0-9._-]{0,63}$/;

const httpUrl = z.url({ protocol: /^https?$/, error: 'an http(s) URL' });

const centerPublicSchema = z
  .object({
    id: z.string().regex(CENTER_ID, 'lower-case letters, digits and -'),
    jurisdiction: z.string().regex(JURISDICTION, 'an upper-case code such as EU'),
    registry: httpUrl,
    sync: httpUrl,
    signingKey: z.string().regex(KEY32, 'base64 of a 32-byte key'),
    kxKey: z.string().regex(KEY32, 'base64 of a 32-byte key'),
  })
  .strict();

const accessPublicSchema = z
  .object({ url: httpUrl, trustKey: z.string().regex(KEY32, 'base64 of a 32-byte key') })
  .strict();

const draftSchema = z
  .object({
    version: z.literal(1),
    federation: z.string().regex(FEDERATION),
    centers: z.array(centerPublicSchema),
    /** Days to fix findings per severity (the manifest's serviceLevels); defaults when absent. */
    serviceLevels: serviceLevelsSchema.optional(),
  })
  .strict();

const operatorAccountSchema = z
  .object({
    name: z.string().regex(OPERATOR),
    roles: z.array(z.enum(ROLES)).min(1),
    publicKey: z.string().regex(KEY32, 'base64 of a 32-byte key'),
  })
  .strict();

type Draft = z.infer<typeof draftSchema>;

/** File names the set-up commands write beside the keys. */
const CENTER_PUBLIC = 'center-public.json';
const ACCESS_PUBLIC = 'access-public.json';
const DRAFT = 'federation-draft.json';
const ROOT_KEY = 'federation-root.key';

// ---------------------------------------------------------------------------------------
// Files

async function readJsonFile<T>(
  path: string,
  schema: z.ZodType<T>,
  what: string,
  hint: string,
): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(
      'CONFIG',
      `cannot read ${what} ${path}: ${(err as Error).message} — ${hint}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError('CONFIG', `${what} ${path} is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new CliError('CONFIG', `${what} ${path} is not valid: ${fields.join('; ')}`);
  }
  return parsed.data;
}

async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

async function exists(path: string): Promise<boolean> {
  return accessFile(path, constants.F_OK).then(
    () => true,
    () => false,
  );
}

/** Reads and verifies a signed manifest against a base64 root key, naming what failed. */
export async function readVerifiedManifest(
  path: string,
  rootKey: string,
  setting = '--manifest',
): Promise<FederationManifest> {
  if (!KEY32.test(rootKey)) {
    throw usageError('--root-key must be the base64 of a 32-byte Ed25519 public key');
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError('CONFIG', `cannot read ${setting} ${path}: ${(err as Error).message}`);
  }
  try {
    return await verifyManifest(JSON.parse(text), Buffer.from(rootKey, 'base64'));
  } catch (err) {
    if (err instanceof SyntaxError) throw new CliError('CONFIG', `${setting} ${path} is not JSON`);
    if (isVitrineError(err, 'unauthenticated')) {
      throw new CliError(
        'CONFIG',
        `${setting} ${path} is not signed by the federation root key ${rootKey} (${err.message}) — sign it with \`vitrine federation sign\` using that root, or give the root key it was signed with`,
      );
    }
    if (isVitrineError(err)) {
      throw new CliError('CONFIG', `${setting} ${path} is not a valid manifest: ${err.message}`);
    }
    throw err;
  }
}

function hostPort(flag: string, text: string): { host: string; port: number } {
  const match = /^(.+):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match?.[1] || !(port >= 0 && port <= 65535)) {
    throw usageError(`${flag} must be HOST:PORT, such as 0.0.0.0:7410 (got '${text}')`);
  }
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

// ---------------------------------------------------------------------------------------
// federation init / add-center / sign

interface FederationInitOptions {
  name: string;
  out: string;
  json?: boolean;
}

async function federationInit(io: CliIo, options: FederationInitOptions) {
  if (!FEDERATION.test(options.name)) {
    throw usageError('--name must be letters, digits, . _ and -, at most 64 (it names the logs)');
  }
  const dir = resolve(io.cwd, options.out);
  const keyFile = join(dir, ROOT_KEY);
  if (await exists(keyFile)) {
    throw usageError(
      `${keyFile} exists already: a federation has one root key; use another --out folder`,
    );
  }
  const root = await generateSigningKeyPair();
  await writeKeyFile(keyFile, root);
  const draft = join(dir, DRAFT);
  const empty: Draft = { version: 1, federation: options.name, centers: [] };
  await writeJsonFile(draft, empty);
  const rootKey = base64(root.publicKey);
  writeResult(io, options.json === true, {
    json: () => ({ federation: options.name, rootKey, keyFile, draft }),
    human: () => [
      `federation ${options.name}: root key ${keyFile} (0600; keep this host offline)`,
      `root public key: ${rootKey}`,
      `draft manifest: ${draft} — add each center with \`vitrine federation add-center\``,
    ],
  });
}

interface AddCenterOptions {
  draft: string;
  center: string;
  json?: boolean;
}

async function federationAddCenter(io: CliIo, options: AddCenterOptions) {
  const draftPath = resolve(io.cwd, options.draft);
  const draft = await readJsonFile(
    draftPath,
    draftSchema,
    'draft manifest',
    'make one with `vitrine federation init`',
  );
  const center = await readJsonFile(
    resolve(io.cwd, options.center),
    centerPublicSchema,
    'center public file',
    'copy the center-public.json `vitrine center init` wrote on the center’s host',
  );
  const clash = draft.centers.find(
    (c) => c.id === center.id || c.signingKey === center.signingKey || c.kxKey === center.kxKey,
  );
  if (clash) {
    throw usageError(
      clash.id === center.id
        ? `the draft lists center ${center.id} already`
        : `center ${clash.id} in the draft has the same key as ${center.id}: every center makes its own keys`,
    );
  }
  const next: Draft = { ...draft, centers: [...draft.centers, center] };
  await writeJsonFile(draftPath, next);
  writeResult(io, options.json === true, {
    json: () => ({ draft: draftPath, centers: next.centers.map((c) => c.id) }),
    human: () => [`${draftPath}: centers ${next.centers.map((c) => c.id).join(', ')}`],
  });
}

interface SignOptions {
  draft: string;
  rootKeyFile: string;
  access: string;
  out: string;
  client?: string;
  json?: boolean;
}

async function federationSign(io: CliIo, options: SignOptions) {
  const draft = await readJsonFile(
    resolve(io.cwd, options.draft),
    draftSchema,
    'draft manifest',
    'make one with `vitrine federation init`',
  );
  if (draft.centers.length === 0) {
    throw usageError('the draft lists no center: add each with `vitrine federation add-center`');
  }
  const access = await readJsonFile(
    resolve(io.cwd, options.access),
    accessPublicSchema,
    'access public file',
    'copy the access-public.json `vitrine access init` wrote on the access host',
  );
  const rootPath = resolve(io.cwd, options.rootKeyFile);
  const root = await readKeyFile(rootPath).catch((err: unknown) => {
    throw new CliError('CONFIG', `${rootPath}: ${(err as Error).message}`);
  });
  if (!root) {
    throw new CliError(
      'CONFIG',
      `no federation root key at ${rootPath} — run \`vitrine federation init\` on the root host`,
    );
  }
  const signed = await signManifest(
    {
      version: 1,
      federation: draft.federation,
      issuedAt: new Date().toISOString(),
      centers: draft.centers,
      access: { url: access.url, tokenKeys: [], trustKey: access.trustKey },
      ...(draft.serviceLevels && { serviceLevels: draft.serviceLevels }),
    },
    root,
  ).catch((err: unknown) => {
    if (isVitrineError(err)) throw new CliError('CONFIG', err.message);
    throw err;
  });
  const out = resolve(io.cwd, options.out);
  await writeJsonFile(out, signed);
  const client = options.client ? resolve(io.cwd, options.client) : undefined;
  if (client) await writeJsonFile(client, clientFile(draft, access));
  const rootKey = base64(root.publicKey);
  writeResult(io, options.json === true, {
    json: () => ({
      federation: draft.federation,
      manifest: out,
      rootKey,
      centers: draft.centers.map((c) => c.id),
      ...(client ? { client } : {}),
    }),
    human: () => [
      `signed manifest of ${draft.federation} (${draft.centers.map((c) => c.id).join(', ')}): ${out}`,
      `root public key: ${rootKey}`,
      ...(client ? [`CLI federation file: ${client} (copy to each user's data folder)`] : []),
    ],
  });
}

/** The `federation.json` CLI users keep in their data folder to reach the federation. */
function clientFile(draft: Draft, access: { url: string; trustKey: string }): FederationFile {
  return {
    version: 1,
    access: { id: 'access', url: access.url, trustKey: access.trustKey },
    centers: draft.centers.map((c) => ({
      id: c.id,
      jurisdiction: c.jurisdiction,
      registry: c.registry,
      sync: c.sync,
    })),
  };
}

// ---------------------------------------------------------------------------------------
// center init / access init / operator init

interface CenterInitOptions {
  id: string;
  jurisdiction: string;
  registry: string;
  sync: string;
  out: string;
  json?: boolean;
}

async function centerInit(io: CliIo, options: CenterInitOptions) {
  const dir = resolve(io.cwd, options.out);
  const paths = centerKeyPaths(dir);
  const had = await exists(paths.signing);
  const parsed = centerPublicSchema.omit({ signingKey: true, kxKey: true }).safeParse({
    id: options.id,
    jurisdiction: options.jurisdiction,
    registry: options.registry,
    sync: options.sync,
  });
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`);
    throw usageError(fields.join('; '));
  }
  const center: CenterPublic = await prepareCenterKeys(dir, parsed.data);
  const publicFile = join(dir, CENTER_PUBLIC);
  await writeJsonFile(publicFile, center);
  writeResult(io, options.json === true, {
    json: () => ({ ...center, keyFile: paths.signing, publicFile, created: !had }),
    human: () => [
      `center ${center.id} (${center.jurisdiction}): keys ${had ? 'kept' : 'created'} in ${dirname(paths.signing)} (0600)`,
      `signing key ${center.signingKey}`,
      `key-exchange key ${center.kxKey}`,
      `public part: ${publicFile} — give it to the root host for \`vitrine federation add-center\``,
    ],
  });
}

interface AccessInitOptions {
  url: string;
  out: string;
  json?: boolean;
}

async function accessInit(io: CliIo, options: AccessInitOptions) {
  const url = httpUrl.safeParse(options.url);
  if (!url.success) throw usageError(`--url must be an http(s) URL (got '${options.url}')`);
  const dir = resolve(io.cwd, options.out);
  const keyFile = trustKeyPath({ dataDir: dir });
  const had = await exists(keyFile);
  const trust = await loadOrCreateKeyFile(keyFile);
  const published = { url: url.data, trustKey: base64(trust.publicKey) };
  const publicFile = join(dir, ACCESS_PUBLIC);
  await writeJsonFile(publicFile, published);
  writeResult(io, options.json === true, {
    json: () => ({ ...published, keyFile, publicFile, created: !had }),
    human: () => [
      `access trust key ${had ? 'kept' : 'created'}: ${keyFile} (0600)`,
      `trust public key ${published.trustKey}`,
      `public part: ${publicFile} — give it to the root host for \`vitrine federation sign\` and to every center`,
    ],
  });
}

interface OperatorInitOptions {
  name: string;
  role: string[];
  out?: string;
  data?: string;
  profile?: string;
  json?: boolean;
}

async function operatorInit(io: CliIo, options: OperatorInitOptions) {
  if (!OPERATOR.test(options.name)) {
    throw usageError('--name must be lower-case letters, digits and . _ - (at most 64)');
  }
  const roles = [...new Set(options.role)];
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (unknown.length > 0) {
    throw usageError(`unknown role ${unknown.join(', ')}: use ${ROLES.join(', ')}`);
  }
  const home = vitrineHome(options, io.env, io.cwd);
  const name = profileNameOf(options, io.env);
  if (await profileExists(home, name)) {
    throw usageError(`profile '${name}' exists already in ${home}; choose another with --profile`);
  }
  const profile = await createProfile(
    home,
    name,
    `operator:${options.name}`,
    await generateSigningKeyPair(),
  );
  const account = operatorAccountSchema.parse({
    name: options.name,
    roles,
    publicKey: base64(profile.key.publicKey),
  });
  const out = options.out ? resolve(io.cwd, options.out) : undefined;
  if (out) await writeJsonFile(out, account);
  writeResult(io, options.json === true, {
    json: () => ({ ...account, profile: name, ...(out ? { accountFile: out } : {}) }),
    human: () => [
      `operator:${account.name} (${account.roles.join(', ')}): key in profile '${name}' of ${home} (0600)`,
      `public key ${account.publicKey}`,
      ...(out
        ? [`account: ${out} — give it to the access host for \`vitrine config access\``]
        : []),
    ],
  });
}

// ---------------------------------------------------------------------------------------
// config center / config access

interface CenterConfigOptions {
  centerDir: string;
  dataDir?: string;
  manifest: string;
  rootKey: string;
  access: string;
  registryListen: string;
  syncListen: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  databaseUrl?: string;
  s3Endpoint?: string;
  s3Bucket?: string;
  s3CredentialsFile?: string;
  out: string;
  json?: boolean;
}

/**
 * The registry's `chunkStore` from the --s3-* flags: a bucket of an S3-compatible service,
 * or none (chunks in the data folder). Endpoint and bucket go together; the access key is
 * read from a file or the environment when the center starts, never written here.
 */
function s3ChunkStore(io: CliIo, options: CenterConfigOptions) {
  const { s3Endpoint, s3Bucket, s3CredentialsFile } = options;
  if (s3Endpoint === undefined && s3Bucket === undefined) {
    if (s3CredentialsFile !== undefined) {
      throw usageError('--s3-credentials-file needs --s3-endpoint and --s3-bucket');
    }
    return undefined;
  }
  if (s3Endpoint === undefined || s3Bucket === undefined) {
    throw usageError('chunks in S3 need both --s3-endpoint and --s3-bucket');
  }
  if (!URL.canParse(s3Endpoint) || !/^https?:$/.test(new URL(s3Endpoint).protocol)) {
    throw usageError(`--s3-endpoint ${s3Endpoint} is not an http(s) URL`);
  }
  return {
    kind: 's3' as const,
    endpoint: s3Endpoint,
    bucket: s3Bucket,
    ...(s3CredentialsFile ? { credentialsFile: resolve(io.cwd, s3CredentialsFile) } : {}),
  };
}

async function centerConfig(io: CliIo, options: CenterConfigOptions) {
  const centerDir = resolve(io.cwd, options.centerDir);
  const self = await readJsonFile(
    join(centerDir, CENTER_PUBLIC),
    centerPublicSchema,
    'center public file',
    'run `vitrine center init` on this host first',
  );
  const keys = centerKeyPaths(centerDir);
  await requireReadable('the center key', keys.signing, 'run `vitrine center init` on this host');
  const manifestFile = resolve(io.cwd, options.manifest);
  const manifest = await readVerifiedManifest(manifestFile, options.rootKey);
  const listed = manifest.center(self.id);
  if (!listed || base64(listed.signingKey) !== self.signingKey) {
    throw new CliError(
      'CONFIG',
      `the manifest ${manifestFile} does not list center ${self.id} with the key in ${keys.signing} — add ${join(centerDir, CENTER_PUBLIC)} with \`vitrine federation add-center\` and sign again`,
    );
  }
  const access = await readJsonFile(
    resolve(io.cwd, options.access),
    accessPublicSchema,
    'access public file',
    'copy the access-public.json `vitrine access init` wrote on the access host',
  );
  const tlsFlags = [options.tlsCert, options.tlsKey, options.tlsCa];
  const tlsCount = tlsFlags.filter((f) => f !== undefined).length;
  if (tlsCount !== 0 && tlsCount !== 3) {
    throw usageError('mutual TLS needs all of --tls-cert, --tls-key and --tls-ca');
  }
  const tls =
    tlsCount === 3
      ? {
          certFile: resolve(io.cwd, options.tlsCert as string),
          keyFile: resolve(io.cwd, options.tlsKey as string),
          caFile: resolve(io.cwd, options.tlsCa as string),
        }
      : undefined;
  if (tls) {
    await requireReadable('--tls-cert', tls.certFile, 'give the center’s certificate (PEM)');
    await requireReadable('--tls-key', tls.keyFile, 'give the certificate’s private key (PEM)');
    await requireReadable('--tls-ca', tls.caFile, 'give the federation’s CA bundle (PEM)');
  }
  const chunkStore = s3ChunkStore(io, options);
  if (chunkStore?.credentialsFile) {
    await requireReadable(
      '--s3-credentials-file',
      chunkStore.credentialsFile,
      'give a 0600 JSON file {"accessKeyId": "…", "secretAccessKey": "…"}',
    );
  }
  const center = { id: self.id, jurisdiction: self.jurisdiction };
  const config = {
    registry: {
      center,
      federation: manifest.federation,
      jurisdictions: [...new Set(manifest.centers.map((c) => c.jurisdiction))],
      listen: hostPort('--registry-listen', options.registryListen),
      dataDir: options.dataDir ? resolve(io.cwd, options.dataDir) : centerDir,
      keyFile: keys.signing,
      access: { url: access.url, trustKey: access.trustKey },
      ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
      ...(chunkStore ? { chunkStore } : {}),
    },
    sync: {
      center,
      listen: hostPort('--sync-listen', options.syncListen),
      manifestFile,
      federationRootKey: options.rootKey,
      keyFile: keys.signing,
      ...(tls ? { tls } : {}),
    },
  };
  const out = resolve(io.cwd, options.out);
  await writeJsonFile(out, config);
  writeResult(io, options.json === true, {
    json: () => ({
      config: out,
      center: self.id,
      tls: tls !== undefined,
      chunkStore: chunkStore ? `s3://${chunkStore.bucket}` : 'local',
    }),
    human: () => [
      `config of center ${self.id}: ${out}${tls ? ' (mutual TLS between centers)' : ''}`,
      ...(chunkStore
        ? [
            `chunks in bucket ${chunkStore.bucket} at ${chunkStore.endpoint}${chunkStore.credentialsFile ? '' : ' (key from VITRINE_S3_ACCESS_KEY_ID and VITRINE_S3_SECRET_ACCESS_KEY)'}`,
          ]
        : []),
      `start it with: vitrine serve center --config ${out}`,
    ],
  });
}

interface AccessConfigOptions {
  accessDir: string;
  manifest: string;
  rootKey: string;
  listen: string;
  operator: string[];
  maxLifetimeHours: string;
  approvals: string;
  databaseUrl?: string;
  out: string;
  json?: boolean;
}

async function accessConfig(io: CliIo, options: AccessConfigOptions) {
  const dataDir = resolve(io.cwd, options.accessDir);
  const trustKeyFile = trustKeyPath({ dataDir });
  await requireReadable('the trust key', trustKeyFile, 'run `vitrine access init` on this host');
  const manifest = await readVerifiedManifest(resolve(io.cwd, options.manifest), options.rootKey);
  const trust = await readKeyFile(trustKeyFile);
  if (
    !trust ||
    !manifest.access.trustKey ||
    base64(manifest.access.trustKey) !== base64(trust.publicKey)
  ) {
    throw new CliError(
      'CONFIG',
      `the manifest does not name the trust key in ${trustKeyFile} as the access service's — sign it with this host's access-public.json`,
    );
  }
  const operators = await Promise.all(
    options.operator.map((file) =>
      readJsonFile(
        resolve(io.cwd, file),
        operatorAccountSchema,
        'operator account',
        'copy the file `vitrine operator init --out` wrote',
      ),
    ),
  );
  if (operators.length === 0) {
    throw usageError('name at least one operator account with --operator FILE');
  }
  const hours = Number(options.maxLifetimeHours);
  const approvals = Number(options.approvals);
  if (!(hours > 0 && hours <= 24 * 366)) {
    throw usageError('--max-lifetime-hours must be a number of hours up to 8784');
  }
  if (!Number.isInteger(approvals) || approvals < 1 || approvals > 16) {
    throw usageError('--approvals must be a whole number from 1 to 16');
  }
  const jurisdictions: Record<string, unknown> = {};
  for (const c of manifest.centers) {
    const policy = jurisdictions[c.jurisdiction] as { centers: string[] } | undefined;
    if (policy) policy.centers.push(c.id);
    else {
      jurisdictions[c.jurisdiction] = {
        centers: [c.id],
        maxLifetimeHours: hours,
        kinds: [...ARTIFACT_KINDS],
        approvals,
      };
    }
  }
  const config = {
    listen: hostPort('--listen', options.listen),
    federation: manifest.federation,
    dataDir,
    trustKeyFile,
    operators,
    jurisdictions,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
  };
  const out = resolve(io.cwd, options.out);
  await writeJsonFile(out, config);
  writeResult(io, options.json === true, {
    json: () => ({ config: out, operators: operators.map((o) => o.name) }),
    human: () => [
      `config of the access service: ${out} (operators ${operators.map((o) => o.name).join(', ')})`,
      `start it with: vitrine serve access --config ${out}`,
    ],
  });
}

// ---------------------------------------------------------------------------------------
// Wiring

/** `vitrine federation init|add-center|sign`, added to the `federation` group. */
export function addFederationSetup(federation: Command, io: CliIo): void {
  federation
    .command('init')
    .description('create the federation root key (0600) and an empty draft manifest, offline')
    .requiredOption('--name <federation>', 'the federation’s name: its logs are <name>/<center>')
    .requiredOption('--out <dir>', 'folder for federation-root.key and federation-draft.json')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Run on the host that will keep the root key, ideally offline. The key signs the federation
manifest, and nothing else; its public half is what every center is configured with.
Example:
  $ vitrine federation init --name acme-tc --out /srv/vitrine-root`,
    )
    .action((options: FederationInitOptions) =>
      runCommand(io, options.json === true, () => federationInit(io, options)),
    );
  federation
    .command('add-center')
    .description('add a center’s public part (from `vitrine center init`) to the draft manifest')
    .requiredOption('--draft <file>', 'the draft manifest (federation-draft.json)')
    .requiredOption('--center <file>', 'the center-public.json the center’s host wrote')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Example:
  $ vitrine federation add-center --draft /srv/vitrine-root/federation-draft.json --center europe-public.json`,
    )
    .action((options: AddCenterOptions) =>
      runCommand(io, options.json === true, () => federationAddCenter(io, options)),
    );
  federation
    .command('sign')
    .description(
      'sign the federation manifest with the root key, from the draft and the access service’s public part',
    )
    .requiredOption('--draft <file>', 'the draft manifest (federation-draft.json)')
    .requiredOption('--root-key-file <file>', 'the federation root key (federation-root.key)')
    .requiredOption('--access <file>', 'the access-public.json the access host wrote')
    .requiredOption('--out <file>', 'where to write the signed manifest')
    .option('--client <file>', 'also write the federation.json CLI users keep in their data folder')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Copy the signed manifest to every center; it is public. Sign again after adding a center.
Example:
  $ vitrine federation sign --draft federation-draft.json --root-key-file federation-root.key \\
      --access access-public.json --out federation-manifest.json --client federation.json`,
    )
    .action((options: SignOptions) =>
      runCommand(io, options.json === true, () => federationSign(io, options)),
    );
}

/** `vitrine access init`, added to the `access` group. */
export function addAccessInit(access: Command, io: CliIo): void {
  access
    .command('init')
    .description('create the access service’s trust key (0600) and print its public part')
    .requiredOption('--url <url>', 'the URL centers and users reach the access service at')
    .requiredOption('--out <dir>', 'the access service’s data folder (keys/trust.key)')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Run on the access host. Writes <dir>/access-public.json for the root host and the centers.
Example:
  $ vitrine access init --url http://access.tc.example:7400 --out /var/lib/vitrine/access`,
    )
    .action((options: AccessInitOptions) =>
      runCommand(io, options.json === true, () => accessInit(io, options)),
    );
}

/** `vitrine center init`, `vitrine operator init` and `vitrine config center|access`. */
export const setupCommands: CommandGroup = (program, io) => {
  const center = program
    .command('center')
    .description('set up a center on its own host')
    .addHelpText('after', '\nExample:\n  $ vitrine center init --help');
  center
    .command('init')
    .description('create a center’s signing and key-exchange keys (0600) and print the public part')
    .requiredOption('--id <id>', 'the center’s id (lower-case, e.g. europe)')
    .requiredOption('--jurisdiction <code>', 'its jurisdiction code (e.g. EU)')
    .requiredOption('--registry <url>', 'the URL partners reach its registry at')
    .requiredOption(
      '--sync <url>',
      'the URL peer centers reach its sync service at (https with mutual TLS)',
    )
    .requiredOption('--out <dir>', 'the center’s data folder (keys/ goes in it)')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Keys that exist already are kept (the command is safe to repeat). Writes
<dir>/center-public.json: give it to the root host.
Example:
  $ vitrine center init --id europe --jurisdiction EU --registry http://eu.tc.example:7410 \\
      --sync https://eu.tc.example:7411 --out /var/lib/vitrine/europe`,
    )
    .action((options: CenterInitOptions) =>
      runCommand(io, options.json === true, () => centerInit(io, options)),
    );

  program
    .command('operator')
    .description('operator accounts')
    .addHelpText('after', '\nExample:\n  $ vitrine operator init --help')
    .command('init')
    .description(
      'create an operator’s key in a CLI profile (0600) and print the account for the access config',
    )
    .requiredOption('--name <name>', 'account name: the principal is operator:<name>')
    .requiredOption('--role <role>', `role (repeat): ${ROLES.join(', ')}`, collect)
    .option('--out <file>', 'also write the account (public key and roles) to this file')
    .option('--data <dir>', 'data folder (default: $VITRINE_HOME or ./.vitrine)')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Run on the operator's own machine; the key never leaves it. The profile is --profile
(default: operator). Give the account file to the access host.
Example:
  $ vitrine operator init --name alice --role operator --role approver --out alice.json`,
    )
    .action((options: OperatorInitOptions) =>
      runCommand(io, options.json === true, () => operatorInit(io, options)),
    );

  const config = program
    .command('config')
    .description('write checked config files for `vitrine serve`')
    .addHelpText('after', '\nExample:\n  $ vitrine config center --help');
  config
    .command('center')
    .description(
      'write the config of `vitrine serve center` from this host’s keys and the signed manifest',
    )
    .requiredOption('--center-dir <dir>', 'the folder `vitrine center init` wrote')
    .requiredOption('--manifest <file>', 'the signed federation manifest')
    .requiredOption('--root-key <base64>', 'the federation root public key')
    .requiredOption('--access <file>', 'the access service’s access-public.json')
    .requiredOption('--registry-listen <host:port>', 'where the registry listens')
    .requiredOption('--sync-listen <host:port>', 'where the sync service listens')
    .option(
      '--tls-cert <file>',
      'this center’s TLS certificate (PEM) for mutual TLS between centers',
    )
    .option('--tls-key <file>', 'its private key (PEM)')
    .option('--tls-ca <file>', 'the CA bundle (PEM) every peer’s certificate chains to')
    .option('--data-dir <dir>', 'the registry’s data folder (default: --center-dir)')
    .option('--database-url <url>', 'postgres://… instead of the embedded database')
    .option('--s3-endpoint <url>', 'keep chunks in a bucket of this S3-compatible service')
    .option('--s3-bucket <name>', 'the bucket (with --s3-endpoint)')
    .option(
      '--s3-credentials-file <file>',
      'a 0600 JSON file with the bucket’s access key (default: VITRINE_S3_ACCESS_KEY_ID and VITRINE_S3_SECRET_ACCESS_KEY)',
    )
    .requiredOption('--out <file>', 'where to write the config')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Checks first: the manifest verifies against the root key and lists this center with
this host's key, and every file named exists.
With --database-url and --s3-*, several processes of the center may run on one database
and one bucket and act as one center (docs/deployment.md).
Example:
  $ vitrine config center --center-dir /var/lib/vitrine/europe --manifest federation-manifest.json \\
      --root-key <base64> --access access-public.json --registry-listen 0.0.0.0:7410 \\
      --sync-listen 0.0.0.0:7411 --tls-cert eu.pem --tls-key eu-key.pem --tls-ca ca.pem --out europe.json`,
    )
    .action((options: CenterConfigOptions) =>
      runCommand(io, options.json === true, () => centerConfig(io, options)),
    );
  config
    .command('access')
    .description(
      'write the config of `vitrine serve access`: operators and one policy per jurisdiction of the manifest',
    )
    .requiredOption('--access-dir <dir>', 'the folder `vitrine access init` wrote')
    .requiredOption('--manifest <file>', 'the signed federation manifest')
    .requiredOption('--root-key <base64>', 'the federation root public key')
    .requiredOption('--listen <host:port>', 'where the access service listens')
    .requiredOption('--operator <file>', 'an operator account file (repeat)', collect)
    .option('--max-lifetime-hours <n>', 'longest credential a partner may get', '720')
    .option('--approvals <n>', 'distinct approvers a partner request needs', '1')
    .option('--database-url <url>', 'postgres://… instead of the embedded database')
    .requiredOption('--out <file>', 'where to write the config')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Example:
  $ vitrine config access --access-dir /var/lib/vitrine/access --manifest federation-manifest.json \\
      --root-key <base64> --listen 0.0.0.0:7400 --operator alice.json --out access.json`,
    )
    .action((options: AccessConfigOptions) =>
      runCommand(io, options.json === true, () => accessConfig(io, options)),
    );
};
