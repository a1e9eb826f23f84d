import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { create, fromBinary, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import { callAuthInterceptor } from '@vitrine/credentials';
import { type EventBody, EventBodySchema, SignedEventSchema } from '@vitrine/proto/event';
import { type GetReceiptRequestSchema, LogService } from '@vitrine/proto/log';
import { createGrpcClient } from '@vitrine/rpc';
import { formatTlogProof } from '@vitrine/tlog';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { parseArtifactId, resolveArtifactId } from './artifact-ids.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { resolveTarget, type Target } from './endpoints.js';
import { describeBody } from './event-checks.js';
import { writeResult } from './output.js';
import { centerAuth, proofCenterOf } from './registry-auth.js';
import { connectRegistry } from './registry-client.js';
import { explainRpcError } from './rpc-errors.js';
import { runCommand } from './run-command.js';
import { addTargetOptions, type TargetOptions } from './target-options.js';

interface ReceiptOptions extends TargetOptions {
  readonly profile?: string;
  readonly output?: string;
  readonly event?: { origin: string; seq: bigint };
}

/** An event named as `<origin>/<seq>` (`europe/12`). */
function parseEventRef(value: string): { origin: string; seq: bigint } {
  const match = /^([a-z0-9][a-z0-9-]{0,62})\/([1-9][0-9]{0,18})$/.exec(value);
  if (match === null) {
    throw new InvalidArgumentError('an event is <origin center>/<sequence>, e.g. europe/12');
  }
  return { origin: match[1] as string, seq: BigInt(match[2] as string) };
}

/** A LogService client signed as the command's profile, for the target center. */
export async function signedLogClient(
  io: CliIo,
  options: TargetOptions & { readonly profile?: string },
  target: Target,
): Promise<Client<typeof LogService>> {
  const auth = await centerAuth(options, io.env, io.cwd);
  const interceptors = auth ? [callAuthInterceptor(auth, proofCenterOf(target))] : [];
  return createGrpcClient(LogService, target.url, { interceptors });
}

function addReceiptOptions(command: Command): Command {
  return addTargetOptions(
    command
      .option(
        '--event <origin/seq>',
        'the event to prove, e.g. europe/12 (one of the changes `vitrine log events` lists)',
        parseEventRef,
      )
      .option('-o, --output <file>', 'write the receipt here (default: stdout)')
      .option('--profile <name>', 'act as this profile (default: $VITRINE_PROFILE or operator)'),
    'read',
  );
}

/** `finding receipt ID`: a receipt for a change to a finding. */
export function addFindingReceipt(parent: Command, io: CliIo): void {
  const receipt = parent
    .command('receipt')
    .description(
      'write a receipt for a change to a finding — its creation, an update or a comment (the latest unless --event names one): a C2SP tlog-proof carrying the signed event, that anyone verifies offline',
    )
    .argument('<id>', 'finding id, e.g. europe-17');
  addReceiptOptions(receipt)
    .addHelpText(
      'after',
      `
The receipt holds the event as its origin signed it (with its body, which names the
finding), its inclusion proof and the origin's signed checkpoint. Check it anywhere with
\`vitrine verify receipt FILE --keys keys.json\` (keys.json: \`vitrine federation keys --json\`).
Examples:
  $ vitrine finding receipt europe-17 --center europe -o europe-17.tlog-proof
  $ vitrine finding receipt europe-17 --center europe --event us/40 -o europe-17-us-40.tlog-proof`,
    )
    .action((id: string, options: ReceiptOptions) =>
      runCommand(io, options.json === true, () =>
        writeReceipt(io, options, { kind: 'finding', id }, async () =>
          options.event
            ? { subject: { case: 'event', value: options.event } }
            : { subject: { case: 'findingId', value: id } },
        ),
      ),
    );
}

/** `artifact receipt ID`: a receipt for an artifact's publication (or a recorded access). */
export function addArtifactReceipt(parent: Command, io: CliIo): void {
  const receipt = parent
    .command('receipt')
    .description(
      'write a receipt for an artifact’s publication (or, with --event, a recorded access to it): a C2SP tlog-proof carrying the signed event and its manifest, that anyone verifies offline',
    )
    .argument('<id>', 'artifact id, or a unique prefix of at least 4 hex digits', parseArtifactId);
  addReceiptOptions(receipt)
    .addHelpText(
      'after',
      `
The ArtifactPublished event carries the artifact's signed manifest, so the receipt ties a
copy to the origin's log: \`vitrine verify artifact FILE --receipt RECEIPT --keys keys.json\`.
Examples:
  $ vitrine artifact receipt 3fa4c2 --center europe -o router-os-4.2.tlog-proof
  $ vitrine artifact receipt 3fa4c2 --center europe --event europe/57 -o my-download.tlog-proof`,
    )
    .action((id: string, options: ReceiptOptions) =>
      runCommand(io, options.json === true, () =>
        writeReceipt(io, options, { kind: 'artifact', id }, async (target) => {
          if (options.event) return { subject: { case: 'event', value: options.event } };
          const auth = await centerAuth(options, io.env, io.cwd);
          const client = connectRegistry(
            target.url,
            auth && { center: proofCenterOf(target), auth },
          );
          const fullId = await resolveArtifactId(client, id, target.label);
          return { subject: { case: 'artifactId', value: fullId } };
        }),
      ),
    );
}

async function writeReceipt(
  io: CliIo,
  options: ReceiptOptions,
  subject: { readonly kind: 'finding' | 'artifact'; readonly id: string },
  request: (target: Target) => Promise<MessageInitShape<typeof GetReceiptRequestSchema>>,
): Promise<void> {
  const target = await resolveTarget(options, 'read', io.env, io.cwd);
  const res = await (async () => {
    const client = await signedLogClient(io, options, target);
    return client.getReceipt(await request(target));
  })().catch((err: unknown) => {
    throw explainRpcError(
      err,
      target,
      options.event
        ? `event ${options.event.origin}/${options.event.seq}`
        : `${subject.kind} ${subject.id}`,
    );
  });
  const event = res.event ?? create(SignedEventSchema);
  const text = formatTlogProof({
    extra: toBinary(SignedEventSchema, event),
    index: Number(res.seq) - 1,
    proof: res.proof,
    checkpoint: res.checkpoint,
  });
  // What the event is (`vitrine verify receipt` checks it against the signed header).
  const body = event.body.length > 0 ? fromBinary(EventBodySchema, event.body) : undefined;
  const change = describeBody(body);
  if (options.event && !concerns(body, subject)) {
    throw new CliError(
      'INVALID_ARGUMENT',
      `event ${res.origin}/${res.seq} is ${change}, not about ${subject.kind} ${subject.id}`,
    );
  }
  if (options.output !== undefined) await writeFile(resolve(io.cwd, options.output), text);
  const summary = {
    center: target.label,
    origin: res.origin,
    seq: Number(res.seq),
    change,
    treeSize: Number(res.treeSize),
  };
  writeResult(io, options.json === true, {
    json: () => ({
      ...summary,
      ...(options.output !== undefined ? { file: options.output } : { receipt: text }),
    }),
    human: () =>
      options.output !== undefined
        ? [
            `receipt for ${res.origin}/${res.seq} (${change}), in the tree of ${res.treeSize}, written to ${options.output}`,
          ]
        : text.replace(/\n$/, '').split('\n'),
  });
}

/** Whether an event's body is about the finding or artifact (an id prefix for artifacts). */
function concerns(
  body: EventBody | undefined,
  subject: { readonly kind: 'finding' | 'artifact'; readonly id: string },
): boolean {
  const change = body?.change;
  switch (change?.case) {
    case 'artifactPublished':
      return subject.kind === 'artifact' && change.value.artifactId.startsWith(subject.id);
    case 'findingCreated':
    case 'findingUpdated':
    case 'commentAdded':
      return subject.kind === 'finding' && change.value.findingId === subject.id;
    case 'accessUsed':
      return subject.kind === 'finding'
        ? change.value.findingId === subject.id
        : change.value.artifactId !== '' && change.value.artifactId.startsWith(subject.id);
    default:
      return false;
  }
}
