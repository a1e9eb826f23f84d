import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { CliError, usageError } from './cli-error.js';

/** `federation.json`, as `vitrine dev` writes it into the data folder. */
const federationSchema = z.object({
  version: z.literal(1),
  access: z.object({
    id: z.string().min(1),
    url: z.url(),
    /** base64 public key that signs the access service's trust snapshots. */
    trustKey: z.string().optional(),
  }),
  centers: z
    .array(
      z.object({
        id: z.string().min(1),
        jurisdiction: z.string().min(1),
        registry: z.url(),
        sync: z.url(),
      }),
    )
    .min(1),
});

/** The federation a data folder describes: the access service and every center's endpoints. */
export type FederationFile = z.infer<typeof federationSchema>;

/** Where a command sends its calls, and how to name that place in messages. */
export interface Target {
  /** Registry base URL, e.g. `http://127.0.0.1:7420`. */
  readonly url: string;
  /** Center id, when the target was chosen by `--center` or is the default center. */
  readonly center: string | undefined;
  /** How messages name the target: the center id, or the URL when no center is known. */
  readonly label: string;
}

/** The flags every registry command accepts to say where to talk to. */
export interface TargetFlags {
  readonly endpoint?: string | undefined;
  readonly center?: string | undefined;
  readonly data?: string | undefined;
}

/** Whether a command changes state (and so must name its center) or only reads. */
export type Access = 'read' | 'write';

/**
 * The data folder: `--data DIR`, else `$VITRINE_HOME`, else `./.vitrine` — resolved
 * against the working folder, so `vitrine dev` and every later command agree on it.
 */
export function vitrineHome(
  flags: TargetFlags,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): string {
  const chosen = flags.data ?? (env.VITRINE_HOME || undefined) ?? '.vitrine';
  return isAbsolute(chosen) ? chosen : resolve(cwd, chosen);
}

/**
 * Reads and validates `<home>/federation.json`. A missing file says how to get one;
 * a malformed one names every bad field, so a hand-edited file is easy to fix.
 */
export async function readFederation(home: string): Promise<FederationFile> {
  const path = join(home, 'federation.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new CliError('CONFIG', `cannot read ${path}: ${(err as Error).message}`);
    }
    throw new CliError(
      'CONFIG',
      `no federation file at ${path} — point at the data folder of a running federation with --data DIR or VITRINE_HOME=DIR, start one here with \`vitrine dev\` (\`npm start\` in the repository), or pass --endpoint URL`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CliError('CONFIG', `${path} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = federationSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new CliError('CONFIG', `${path} is not a valid federation file: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/**
 * Decides which registry (or, for `sync` commands, which sync service) a command talks to. `--endpoint` wins; otherwise `--center`
 * is looked up in the federation file. Reads without `--center` go to the first center
 * listed; writes must say where they go, because a write becomes that center's event.
 */
export async function resolveTarget(
  flags: TargetFlags,
  access: Access,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  service: 'registry' | 'sync' = 'registry',
): Promise<Target> {
  if (flags.endpoint !== undefined) {
    return {
      url: checkEndpoint(flags.endpoint),
      center: flags.center,
      label: flags.center ?? flags.endpoint,
    };
  }
  const federation = await readFederation(vitrineHome(flags, env, cwd));
  const ids = federation.centers.map((center) => center.id).join(', ');
  if (flags.center === undefined && access === 'write') {
    throw usageError(
      `--center is required to change anything; choose one of ${ids} (or pass --endpoint URL)`,
    );
  }
  const wanted = flags.center ?? federation.centers[0]?.id;
  const center = federation.centers.find((candidate) => candidate.id === wanted);
  if (center === undefined) {
    throw usageError(`unknown center '${wanted}'; the federation has ${ids}`);
  }
  return { url: center[service], center: center.id, label: center.id };
}

/** An `--endpoint` must be an absolute http(s) URL; anything else is a usage error. */
export function checkEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw usageError(`--endpoint must be a URL such as http://127.0.0.1:7420, got '${endpoint}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`--endpoint must use http or https, got '${endpoint}'`);
  }
  return endpoint.replace(/\/+$/, '');
}
