import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { callAuthInterceptor } from '@vitrine/credentials';
import { LogService } from '@vitrine/proto/log';
import { createGrpcClient } from '@vitrine/rpc';
import { formatTlogProof } from '@vitrine/tlog';
import { usageError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import type { CommandGroup } from './command-group.js';
import { resolveTarget } from './endpoints.js';
import { addLogEvents } from './log-events.js';
import { addLogVerify } from './log-monitor.js';
import { writeResult } from './output.js';
import { centerAuth, proofCenterOf } from './registry-auth.js';
import { explainRpcError } from './rpc-errors.js';
import { runCommand } from './run-command.js';
import { addTargetOptions, type TargetOptions } from './target-options.js';

interface ReceiptOptions extends TargetOptions {
  readonly seq: string;
  readonly output?: string;
}

interface EvidenceOptions extends TargetOptions {
  readonly origin?: string;
  readonly profile?: string;
}

/** `vitrine log …`: a center's transparency log, and what it found wrong with its peers'. */
export const logCommands: CommandGroup = (program, io) => {
  const log = program
    .command('log')
    .description(
      'transparency logs: a center’s checkpoint, its events, receipts, monitoring, and evidence against its peers’ logs',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ vitrine log checkpoint --center europe
  $ vitrine log events --center europe --profile regulator
  $ vitrine log verify --center europe
  $ vitrine log evidence --center us --json
  $ vitrine log resume --center us --origin europe
  $ vitrine log receipt --center europe --seq 12 -o europe-12.tlog-proof`,
    );
  const checkpoint = log
    .command('checkpoint')
    .description('print the center’s latest signed checkpoint (C2SP tlog-checkpoint note)');
  addTargetOptions(checkpoint, 'read')
    .addHelpText(
      'after',
      `
Verify it against the center's vkey from \`vitrine federation keys\`.
Example:
  $ vitrine log checkpoint --center europe`,
    )
    .action((options: TargetOptions) =>
      runCommand(io, options.json === true, () => printCheckpoint(io, options)),
    );
  const receipt = log
    .command('receipt')
    .description(
      'write a receipt for one event of the center’s log: a C2SP tlog-proof (the signed event header, its inclusion proof and the signed checkpoint) that anyone verifies offline',
    )
    .requiredOption('--seq <n>', 'the event’s sequence number at this center')
    .option('-o, --output <file>', 'write the receipt here (default: stdout)');
  addTargetOptions(receipt, 'read')
    .addHelpText(
      'after',
      `
Check it anywhere with \`vitrine verify receipt FILE --keys keys.json\`, where keys.json is
the output of \`vitrine federation keys --json\`.
Example:
  $ vitrine log receipt --center europe --seq 12 -o europe-12.tlog-proof`,
    )
    .action((options: ReceiptOptions) =>
      runCommand(io, options.json === true, () => writeReceipt(io, options)),
    );
  addLogEvents(log, io);
  addLogVerify(log, io);
  const evidence = log
    .command('evidence')
    .description(
      'print the evidence the center keeps that a peer’s log forked, went back, or disagrees with what it signed and sent before: both signed checkpoints',
    )
    .option('--origin <center>', 'only evidence against this center');
  addTargetOptions(evidence, 'read')
    .addHelpText(
      'after',
      `
Each center checks every peer's latest checkpoint against the checkpoints and events it
received before; anything it keeps here is signed by the peer, for anyone to check.
Example:
  $ vitrine log evidence --center us --origin europe`,
    )
    .action((options: EvidenceOptions) =>
      runCommand(io, options.json === true, () => printEvidence(io, options)),
    );
  const resume = log
    .command('resume')
    .description(
      'take a peer’s events again at a center that found its log forked: an operator’s decision, recorded beside the evidence (which stays)',
    )
    .requiredOption('--origin <center>', 'the peer whose events to take again');
  addTargetOptions(resume, 'write')
    .addHelpText(
      'after',
      `
Read the evidence first (vitrine log evidence) and settle with the peer's operators which
history is true: resuming takes that peer's events as they come from then on.
Example:
  $ vitrine log resume --center us --origin europe`,
    )
    .action((options: EvidenceOptions) =>
      runCommand(io, options.json === true, () => resumeOrigin(io, options)),
    );
};

async function resumeOrigin(io: CliIo, options: EvidenceOptions): Promise<void> {
  const target = await resolveTarget(options, 'write', io.env, io.cwd);
  const origin = options.origin ?? '';
  const res = await (async () => {
    const auth = await centerAuth(options, io.env, io.cwd);
    const interceptors = auth ? [callAuthInterceptor(auth, proofCenterOf(target))] : [];
    return createGrpcClient(LogService, target.url, { interceptors }).resumeOrigin({ origin });
  })().catch((err: unknown) => {
    throw explainRpcError(err, target);
  });
  writeResult(io, options.json === true, {
    json: () => ({ center: target.label, origin, evidenceResumed: res.evidenceResumed }),
    human: () => [
      `${target.label} takes ${origin}'s events again (${res.evidenceResumed} evidence marked resumed)`,
    ],
  });
}

async function printCheckpoint(io: CliIo, options: TargetOptions): Promise<void> {
  const target = await resolveTarget(options, 'read', io.env, io.cwd);
  const res = await createGrpcClient(LogService, target.url)
    .getCheckpoint({})
    .catch((err: unknown) => {
      throw explainRpcError(err, target);
    });
  writeResult(io, options.json === true, {
    json: () => ({
      center: target.label,
      treeSize: Number(res.treeSize),
      checkpoint: res.checkpoint,
      cosigners: res.cosigners,
      quorum: res.quorum,
      final: res.final,
    }),
    human: () => [
      ...res.checkpoint.replace(/\n$/, '').split('\n'),
      '',
      `${res.final ? 'final' : 'not final yet'}: ${res.cosigners.length} of ${res.quorum} cosignatures needed (${res.cosigners.join(', ') || 'none'})`,
    ],
  });
}

async function writeReceipt(io: CliIo, options: ReceiptOptions): Promise<void> {
  const seq = Number(options.seq);
  if (!Number.isSafeInteger(seq) || seq < 1) throw usageError('--seq is a whole number from 1');
  const target = await resolveTarget(options, 'read', io.env, io.cwd);
  const res = await createGrpcClient(LogService, target.url)
    .getInclusionProof({ leaf: { case: 'seq', value: BigInt(seq) } })
    .catch((err: unknown) => {
      throw explainRpcError(err, target);
    });
  const text = formatTlogProof({
    extra: res.leaf,
    index: Number(res.leafIndex),
    proof: res.proof,
    checkpoint: res.checkpoint,
  });
  if (options.output !== undefined) {
    await writeFile(resolve(io.cwd, options.output), text);
  }
  writeResult(io, options.json === true, {
    json: () => ({
      center: target.label,
      seq,
      treeSize: Number(res.treeSize),
      ...(options.output !== undefined ? { file: options.output } : { receipt: text }),
    }),
    human: () =>
      options.output !== undefined
        ? [
            `receipt for ${target.label}/${seq} (tree of ${res.treeSize}) written to ${options.output}`,
          ]
        : text.replace(/\n$/, '').split('\n'),
  });
}

async function printEvidence(io: CliIo, options: EvidenceOptions): Promise<void> {
  const target = await resolveTarget(options, 'read', io.env, io.cwd);
  const res = await createGrpcClient(LogService, target.url)
    .listEvidence({ origin: options.origin ?? '' })
    .catch((err: unknown) => {
      throw explainRpcError(err, target);
    });
  const evidence = res.evidence.map((e) => ({
    origin: e.origin,
    kind: e.kind,
    message: e.message,
    observedAt: new Date(Number(e.observedAtMs)).toISOString(),
    ...(e.resumedAtMs > 0n
      ? { resumedAt: new Date(Number(e.resumedAtMs)).toISOString(), resumedBy: e.resumedBy }
      : {}),
    checkpoint: e.checkpoint,
    ...(e.otherCheckpoint ? { otherCheckpoint: e.otherCheckpoint } : {}),
  }));
  writeResult(io, options.json === true, {
    json: () => ({ center: target.label, evidence }),
    human: () =>
      evidence.length === 0
        ? [`${target.label} holds no evidence against its peers' logs`]
        : evidence.flatMap((e) => [
            `${e.observedAt}  ${e.kind} in ${e.origin}'s log: ${e.message}${e.resumedAt ? ` (resumed ${e.resumedAt} by ${e.resumedBy})` : ' (its events are refused)'}`,
            ...indent(e.checkpoint),
            ...(e.otherCheckpoint ? ['  contradicts:', ...indent(e.otherCheckpoint)] : []),
          ]),
  });
}

function indent(note: string): string[] {
  return note
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => `    ${line}`);
}
