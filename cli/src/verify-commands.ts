import { access, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type NoteKey, parseVerifierKey } from '@vitrine/tlog';
import type { SignedManifestFile } from './artifact-manifest.js';
import { verifyArtifact } from './artifact-verification.js';
import { CliError, EXIT_FAILURE, ReportedFailure, usageError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import type { CommandGroup } from './command-group.js';
import { writeResult } from './output.js';
import { verifyReceipt } from './receipt-verification.js';
import { runCommand } from './run-command.js';
import { collect } from './target-options.js';

interface VerifyOptions {
  readonly vkey?: readonly string[];
  readonly keys?: string;
  readonly json?: boolean;
}

interface VerifyArtifactOptions extends VerifyOptions {
  readonly manifest: string;
}

/** `vitrine verify …`: offline checks anyone can run with nothing but public keys. */
export const verifyCommands: CommandGroup = (program, io) => {
  const verify = program
    .command('verify')
    .description(
      'check receipts and artifact copies offline against the centers’ verifier keys: no center is asked',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ vitrine verify receipt europe-12.tlog-proof --keys keys.json
  $ vitrine verify receipt europe-12.tlog-proof --vkey 'vitrine-dev/europe+1a2b3c4d+AQ…'
  $ vitrine verify artifact router-os-4.2.tar.gz --manifest router-os-4.2.manifest.json --keys keys.json`,
    );
  verify
    .command('receipt <file>')
    .description(
      'check a receipt (vitrine log receipt): the checkpoint’s signature, the event at its index, the origin’s signature over the event, and its inclusion in the signed tree; exit 0 only when every step holds',
    )
    .option('--vkey <vkey>', 'a trusted verifier key (repeat for several)', collect)
    .option('--keys <file>', 'the JSON `vitrine federation keys --json` prints')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Each step is printed with what it found; the first that fails is named, and the exit is 1.
Example:
  $ vitrine verify receipt europe-12.tlog-proof --keys keys.json --json`,
    )
    .action((file: string, options: VerifyOptions) =>
      runCommand(io, options.json === true, () => checkReceipt(io, file, options)),
    );
  verify
    .command('artifact <file>')
    .description(
      'check a copy of an artifact against its signed manifest (vitrine artifact manifest): the manifest’s id and signature, then the file’s size, SHA-256 and every chunk; exit 0 only when every step holds',
    )
    .requiredOption('--manifest <file>', 'the signed manifest `vitrine artifact manifest` saved')
    .option('--vkey <vkey>', 'a trusted verifier key (repeat for several)', collect)
    .option('--keys <file>', 'the JSON `vitrine federation keys --json` prints')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Example:
  $ vitrine verify artifact router-os-4.2.tar.gz --manifest router-os-4.2.manifest.json --keys keys.json`,
    )
    .action((file: string, options: VerifyArtifactOptions) =>
      runCommand(io, options.json === true, () => checkArtifact(io, file, options)),
    );
};

async function checkArtifact(
  io: CliIo,
  file: string,
  options: VerifyArtifactOptions,
): Promise<void> {
  const keys = await trustedKeys(io, options);
  const text = await readFile(resolve(io.cwd, options.manifest), 'utf8').catch((err: Error) => {
    throw new CliError('IO', `cannot read ${options.manifest}: ${err.message}`);
  });
  let signed: SignedManifestFile;
  try {
    signed = JSON.parse(text) as SignedManifestFile;
  } catch {
    throw usageError(`${options.manifest} is not a signed manifest (JSON)`);
  }
  const path = resolve(io.cwd, file);
  await access(path).catch((err: Error) => {
    throw new CliError('IO', `cannot read ${file}: ${err.message}`);
  });
  const { steps } = await verifyArtifact(path, signed, keys);
  const failed = steps.find((s) => !s.ok);
  writeResult(io, options.json === true, {
    json: () => ({ verified: failed === undefined, id: signed.id, steps }),
    human: () => [
      ...steps.map((s) => `${s.ok ? 'ok  ' : 'FAIL'}  ${s.step}: ${s.detail}`),
      failed === undefined ? 'artifact verified' : `artifact not verified: ${failed.step} failed`,
    ],
  });
  if (failed !== undefined) throw new ReportedFailure(EXIT_FAILURE);
}

async function checkReceipt(io: CliIo, file: string, options: VerifyOptions): Promise<void> {
  const keys = await trustedKeys(io, options);
  const text = await readFile(resolve(io.cwd, file), 'utf8').catch((err: Error) => {
    throw new CliError('IO', `cannot read ${file}: ${err.message}`);
  });
  const { steps, event } = await verifyReceipt(text, keys);
  const failed = steps.find((s) => !s.ok);
  writeResult(io, options.json === true, {
    json: () => ({ verified: failed === undefined, steps, ...(event ? { event } : {}) }),
    human: () => [
      ...steps.map((s) => `${s.ok ? 'ok  ' : 'FAIL'}  ${s.step}: ${s.detail}`),
      failed === undefined ? 'receipt verified' : `receipt not verified: ${failed.step} failed`,
    ],
  });
  if (failed !== undefined) throw new ReportedFailure(EXIT_FAILURE);
}

async function trustedKeys(io: CliIo, options: VerifyOptions): Promise<NoteKey[]> {
  const vkeys = [...(options.vkey ?? [])];
  if (options.keys !== undefined) {
    const text = await readFile(resolve(io.cwd, options.keys), 'utf8').catch((err: Error) => {
      throw new CliError('IO', `cannot read ${options.keys}: ${err.message}`);
    });
    const logs = (JSON.parse(text) as { logs?: { vkey?: unknown }[] }).logs ?? [];
    for (const log of logs) if (typeof log.vkey === 'string') vkeys.push(log.vkey);
  }
  if (vkeys.length === 0) {
    throw usageError(
      'name the keys to trust: --keys FILE (vitrine federation keys --json) or --vkey',
    );
  }
  try {
    return vkeys.map(parseVerifierKey);
  } catch (err) {
    throw usageError(`not a verifier key: ${(err as Error).message}`);
  }
}
