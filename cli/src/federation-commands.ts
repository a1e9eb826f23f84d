import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type FederationManifest, verifyManifest } from '@vitrine/channel';
import { readKeyFile } from '@vitrine/crypto';
import { isVitrineError } from '@vitrine/errors';
import { witnessKey } from '@vitrine/registry';
import { formatVerifierKey, noteKey } from '@vitrine/tlog';
import { CliError, usageError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import type { CommandGroup } from './command-group.js';
import { vitrineHome } from './endpoints.js';
import { writeResult } from './output.js';
import { runCommand } from './run-command.js';
import { addFederationSetup } from './setup-commands.js';
import { formatTable } from './text-table.js';

interface KeysOptions {
  readonly data?: string;
  readonly manifest?: string;
  readonly rootKey?: string;
  readonly json?: boolean;
}

/** One center's transparency log, as a partner or monitor configures it. */
interface LogKey {
  readonly center: string;
  /** The checkpoint origin line, `<federation>/<center>`, and the key's name. */
  readonly origin: string;
  /** The C2SP signed-note verifier key its checkpoints verify against. */
  readonly vkey: string;
  /** Where its tiles are served (C2SP tlog-tiles prefix). */
  readonly tiles: string;
  /** The verifier key of the center's witness (cosignature/v1), which cosigns the others' logs. */
  readonly witness: string;
}

/** The access service's transparency log of its decisions. */
interface AccessLogKey {
  /** The checkpoint origin line, `<federation>/access`, and the key's name. */
  readonly origin: string;
  /** The C2SP signed-note verifier key of the access service's trust key. */
  readonly vkey: string;
  /** Where its tiles are served (C2SP tlog-tiles prefix). */
  readonly tiles: string;
}

/** `vitrine federation …`: what a partner needs to check the federation's centers. */
export const federationCommands: CommandGroup = (program, io) => {
  const federation = program
    .command('federation')
    .description('the federation: its centers and the keys their transparency logs verify with')
    .addHelpText(
      'after',
      `
Examples:
  $ vitrine federation init --name acme-tc --out /srv/vitrine-root
  $ vitrine federation keys
  $ vitrine federation keys --manifest federation-manifest.json --root-key <base64> --json`,
    );
  const keys = federation
    .command('keys')
    .description(
      'print every center’s and the access service’s transparency-log verifier key (C2SP signed-note vkey), where its tiles are, and each center’s witness cosignature key, from the signed federation manifest',
    )
    .option('--data <dir>', 'data folder (default: $VITRINE_HOME or ./.vitrine)')
    .option(
      '--manifest <file>',
      'signed federation manifest (default: <data>/federation-manifest.json)',
    )
    .option(
      '--root-key <base64>',
      'federation root public key the manifest must be signed by (default: from <data>/keys/federation-root.key)',
    )
    .option('--json', 'print one JSON document');
  keys
    .addHelpText(
      'after',
      `
Give the vkeys to anyone who checks a center's checkpoints, receipts or tiles: they
verify offline against these keys, and need nothing else from vitrine. The access log
(origin <federation>/access, every partner registration, request, decision, credential,
revocation and key rotation) is listed apart, as "access" in --json, when the manifest
names the access service's trust key.
Example:
  $ vitrine federation keys --json`,
    )
    .action((options: KeysOptions) =>
      runCommand(io, options.json === true, () => printKeys(io, options)),
    );
  addFederationSetup(federation, io);
};

async function printKeys(io: CliIo, options: KeysOptions): Promise<void> {
  const manifest = await readManifest(io, options);
  const logs: LogKey[] = manifest.centers.map((center) => {
    const origin = `${manifest.federation}/${center.id}`;
    return {
      center: center.id,
      origin,
      vkey: formatVerifierKey(noteKey(origin, center.signingKey)),
      tiles: `${center.registry.replace(/\/$/, '')}/log/`,
      witness: formatVerifierKey(witnessKey(manifest.federation, center.id, center.signingKey)),
    };
  });
  const trustKey = manifest.access.trustKey;
  const origin = `${manifest.federation}/access`;
  const access: AccessLogKey | undefined = trustKey && {
    origin,
    vkey: formatVerifierKey(noteKey(origin, trustKey)),
    tiles: `${manifest.access.url.replace(/\/$/, '')}/log/`,
  };
  writeResult(io, options.json === true, {
    json: () => ({ federation: manifest.federation, logs, ...(access ? { access } : {}) }),
    human: () =>
      formatTable(
        ['LOG', 'VERIFIER KEY', 'TILES', 'WITNESS KEY'],
        [
          ...logs.map((log) => [log.center, log.vkey, log.tiles, log.witness]),
          ...(access ? [['access', access.vkey, access.tiles, '']] : []),
        ],
      ),
  });
}

/**
 * Every center's verifier key, from the federation manifest in the data folder checked
 * against the federation root key (as `vitrine federation keys` prints them).
 */
export async function localVkeys(
  io: CliIo,
  options: { readonly data?: string | undefined },
): Promise<string[]> {
  const manifest = await readManifest(io, options.data === undefined ? {} : { data: options.data });
  return manifest.centers.map((center) =>
    formatVerifierKey(noteKey(`${manifest.federation}/${center.id}`, center.signingKey)),
  );
}

/** The signed manifest, verified against the root key before anything in it is used. */
async function readManifest(io: CliIo, options: KeysOptions): Promise<FederationManifest> {
  const home = vitrineHome(options, io.env, io.cwd);
  const path = options.manifest ?? join(home, 'federation-manifest.json');
  const rootKey = options.rootKey
    ? decodeRootKey(options.rootKey)
    : await localRootKey(join(home, 'keys', 'federation-root.key'));
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(
      'CONFIG',
      `cannot read the federation manifest ${path}: ${(err as Error).message} — pass --manifest FILE or --data DIR`,
    );
  }
  try {
    return await verifyManifest(JSON.parse(text), rootKey);
  } catch (err) {
    if (err instanceof SyntaxError) throw new CliError('CONFIG', `${path} is not JSON`);
    if (isVitrineError(err)) {
      throw new CliError('CONFIG', `${path} does not verify against the root key: ${err.message}`);
    }
    throw err;
  }
}

function decodeRootKey(base64: string): Uint8Array {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== 32 || bytes.toString('base64') !== base64) {
    throw usageError('--root-key must be the base64 of a 32-byte Ed25519 public key');
  }
  return new Uint8Array(bytes);
}

async function localRootKey(path: string): Promise<Uint8Array> {
  const key = await readKeyFile(path).catch(() => undefined);
  if (key === undefined) {
    throw usageError(`no federation root key at ${path}: pass --root-key <base64 public key>`);
  }
  return key.publicKey;
}
