import { access, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { EventBody } from '@vitrine/proto/event';
import { InvalidArgumentError } from 'commander';
import type { SignedManifestFile } from './artifact-manifest.js';
import { verifyArtifact } from './artifact-verification.js';
import { CliError, EXIT_FAILURE, ReportedFailure, usageError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import type { CommandGroup } from './command-group.js';
import { describeBody } from './event-checks.js';
import { writeResult } from './output.js';
import { type ProvenEvent, type ReceiptPolicy, verifyReceipt } from './receipt-verification.js';
import { runCommand } from './run-command.js';
import { collect } from './target-options.js';
import { trustedKeys } from './trusted-keys.js';

interface VerifyOptions {
  readonly vkey?: readonly string[];
  readonly keys?: string;
  readonly witnessQuorum?: number;
  readonly json?: boolean;
}

interface VerifyArtifactOptions extends VerifyOptions {
  readonly manifest?: string;
  readonly receipt?: string;
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
  $ vitrine verify receipt europe-1.tlog-proof --keys keys.json
  $ vitrine verify receipt europe-1.tlog-proof --keys keys.json --witness-quorum 1
  $ vitrine verify receipt europe-12.tlog-proof --vkey 'vitrine-dev/europe+1a2b3c4d+AQ…'
  $ vitrine verify artifact router-os-4.2.tar.gz --receipt router-os-4.2.tlog-proof --keys keys.json
  $ vitrine verify artifact router-os-4.2.tar.gz --manifest router-os-4.2.manifest.json --keys keys.json`,
    );
  verify
    .command('receipt <file>')
    .description(
      'check a receipt (vitrine finding receipt, artifact receipt, log receipt): the checkpoint’s signature and its cosignatures, the event at its index, the origin’s signature over the event, its body against the header’s digest, and its inclusion in the signed tree; exit 0 only when every step holds',
    )
    .option('--vkey <vkey>', 'a trusted verifier key (repeat for several)', collect)
    .option('--keys <file>', 'the JSON `vitrine federation keys --json` prints')
    .option(
      '--witness-quorum <n>',
      'require valid cosignature/v1 lines by at least n known centers other than the origin',
      parseQuorum,
    )
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Each step is printed with what it found; the first that fails is named, and the exit is 1.
Example:
  $ vitrine verify receipt europe-finding-1.tlog-proof --keys keys.json --witness-quorum 1 --json`,
    )
    .action((file: string, options: VerifyOptions) =>
      runCommand(io, options.json === true, () => checkReceipt(io, file, options)),
    );
  verify
    .command('artifact <file>')
    .description(
      'check a copy of an artifact against its signed manifest — from the receipt of its publication (vitrine artifact receipt) or a saved manifest (vitrine artifact manifest): the receipt, the manifest’s id and signature, then the file’s size, SHA-256 and every chunk; exit 0 only when every step holds',
    )
    .option(
      '--receipt <file>',
      'the receipt of the artifact’s ArtifactPublished event (vitrine artifact receipt): ties the copy to the origin’s log',
    )
    .option('--manifest <file>', 'the signed manifest `vitrine artifact manifest` saved')
    .option('--vkey <vkey>', 'a trusted verifier key (repeat for several)', collect)
    .option('--keys <file>', 'the JSON `vitrine federation keys --json` prints')
    .option(
      '--witness-quorum <n>',
      'with --receipt: require cosignatures by at least n other centers',
      parseQuorum,
    )
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Give --receipt, --manifest, or both (then the manifest must be the one the receipt's event
published).
Examples:
  $ vitrine verify artifact router-os-4.2.tar.gz --receipt router-os-4.2.tlog-proof --keys keys.json
  $ vitrine verify artifact router-os-4.2.tar.gz --manifest router-os-4.2.manifest.json --keys keys.json`,
    )
    .action((file: string, options: VerifyArtifactOptions) =>
      runCommand(io, options.json === true, () => checkArtifact(io, file, options)),
    );
};

function parseQuorum(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError('a whole number of witnesses, 0 or more');
  }
  return n;
}

type Step = { readonly step: string; readonly ok: boolean; readonly detail: string };

async function checkArtifact(
  io: CliIo,
  file: string,
  options: VerifyArtifactOptions,
): Promise<void> {
  if (options.receipt === undefined && options.manifest === undefined) {
    throw usageError('name what to check the copy against: --receipt FILE or --manifest FILE');
  }
  const keys = await trustedKeys(io, options);
  const path = resolve(io.cwd, file);
  await access(path).catch((err: Error) => {
    throw new CliError('IO', `cannot read ${file}: ${err.message}`);
  });
  const saved =
    options.manifest === undefined ? undefined : await readManifestFile(io, options.manifest);
  const steps: Step[] = [];
  let signed = saved;
  let event: ProvenEvent | undefined;
  if (options.receipt !== undefined) {
    const text = await readText(io, options.receipt);
    const checked = await verifyReceipt(text, keys, policyOf(options));
    steps.push(...checked.steps);
    event = checked.event;
    if (checked.event !== undefined) {
      const published = publishedManifest(checked.body, saved);
      steps.push(published.step);
      signed = published.signed;
    }
  }
  const done = steps.some((s) => !s.ok) || signed === undefined;
  const id = signed?.id ?? '';
  if (!done && signed !== undefined) {
    steps.push(...(await verifyArtifact(path, signed, keys)).steps);
  }
  const failed = steps.find((s) => !s.ok);
  writeResult(io, options.json === true, {
    json: () => ({ verified: failed === undefined, id, steps, ...(event ? { event } : {}) }),
    human: () => [
      ...steps.map((s) => `${s.ok ? 'ok  ' : 'FAIL'}  ${s.step}: ${s.detail}`),
      failed === undefined ? 'artifact verified' : `artifact not verified: ${failed.step} failed`,
    ],
  });
  if (failed !== undefined) throw new ReportedFailure(EXIT_FAILURE);
}

/**
 * The signed manifest a verified receipt's event published: the event must be an
 * ArtifactPublished carried with its body, and a saved manifest, when given, must be that
 * one.
 */
function publishedManifest(
  body: EventBody | undefined,
  saved: SignedManifestFile | undefined,
): { step: Step; signed?: SignedManifestFile } {
  const fail = (detail: string) => ({ step: { step: 'published', ok: false, detail } });
  if (body === undefined) {
    return fail('the receipt carries no event body: fetch it where you may read the artifact');
  }
  if (body.change.case !== 'artifactPublished') {
    return fail(`the receipt's event is ${describeBody(body)}, not an artifact's publication`);
  }
  const published = body.change.value;
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  const signed = {
    id: published.artifactId,
    manifest: b64(published.manifest),
    signature: b64(published.manifestSignature),
  };
  if (saved !== undefined && (saved.id !== signed.id || saved.manifest !== signed.manifest)) {
    return fail(`the manifest file is of ${saved.id}; the receipt's event published ${signed.id}`);
  }
  return {
    step: { step: 'published', ok: true, detail: `the event published artifact ${signed.id}` },
    signed,
  };
}

async function readManifestFile(io: CliIo, file: string): Promise<SignedManifestFile> {
  const text = await readText(io, file);
  try {
    return JSON.parse(text) as SignedManifestFile;
  } catch {
    throw usageError(`${file} is not a signed manifest (JSON)`);
  }
}

async function readText(io: CliIo, file: string): Promise<string> {
  return readFile(resolve(io.cwd, file), 'utf8').catch((err: Error) => {
    throw new CliError('IO', `cannot read ${file}: ${err.message}`);
  });
}

function policyOf(options: VerifyOptions): ReceiptPolicy {
  return options.witnessQuorum === undefined ? {} : { witnessQuorum: options.witnessQuorum };
}

async function checkReceipt(io: CliIo, file: string, options: VerifyOptions): Promise<void> {
  const keys = await trustedKeys(io, options);
  const text = await readText(io, file);
  const { steps, event, decision } = await verifyReceipt(text, keys, policyOf(options));
  const failed = steps.find((s) => !s.ok);
  writeResult(io, options.json === true, {
    json: () => ({
      verified: failed === undefined,
      steps,
      ...(event ? { event } : {}),
      ...(decision ? { decision } : {}),
    }),
    human: () => [
      ...steps.map((s) => `${s.ok ? 'ok  ' : 'FAIL'}  ${s.step}: ${s.detail}`),
      failed === undefined ? 'receipt verified' : `receipt not verified: ${failed.step} failed`,
    ],
  });
  if (failed !== undefined) throw new ReportedFailure(EXIT_FAILURE);
}
