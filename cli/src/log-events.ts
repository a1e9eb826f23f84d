import { type NoteKey, SignatureType } from '@vitrine/tlog';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { EXIT_FAILURE, ReportedFailure, usageError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { resolveTarget } from './endpoints.js';
import { type CheckedEvent, describeBody, EventChain } from './event-checks.js';
import { localVkeys } from './federation-commands.js';
import { writeJson } from './output.js';
import { signedLogClient } from './receipt-commands.js';
import { explainRpcError } from './rpc-errors.js';
import { runCommand } from './run-command.js';
import { addTargetOptions, collect, type TargetOptions } from './target-options.js';
import { type KeyFlags, trustedKeys } from './trusted-keys.js';

/** Events asked for per ListEvents call. */
const PAGE = 1000;

interface EventsOptions extends TargetOptions, KeyFlags {
  readonly origin?: string;
  readonly after?: number;
  readonly limit?: number;
  readonly profile?: string;
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError('a whole number');
  }
  return n;
}

/**
 * The origin's key among those trusted: the Ed25519 key named `<federation>/<origin>`,
 * which signs its events and its checkpoints.
 */
export function originKey(keys: readonly NoteKey[], origin: string): NoteKey {
  const key = keys.find(
    (k) => k.type === SignatureType.ed25519 && k.name.slice(k.name.lastIndexOf('/') + 1) === origin,
  );
  if (key === undefined) {
    throw usageError(
      `no trusted key for center ${origin}: pass --keys FILE (vitrine federation keys --json) or --vkey`,
    );
  }
  return key;
}

/** `log events`: the events a credential covers, each checked as it arrives. */
export function addLogEvents(parent: Command, io: CliIo): void {
  const events = parent
    .command('events')
    .description(
      'list the events of a center’s log your credential covers, checking each one’s signature, its hash-chain link and its body against the header as it arrives',
    )
    .option('--origin <center>', 'whose events (default: the center asked)')
    .option('--after <seq>', 'start after this sequence number', wholeNumber)
    .option('--limit <n>', 'list at most this many events', wholeNumber)
    .option('--vkey <vkey>', 'a trusted verifier key (repeat for several)', collect)
    .option(
      '--keys <file>',
      'the JSON `vitrine federation keys --json` prints (default: the federation manifest in the data folder, checked against its root key)',
    )
    .option('--profile <name>', 'act as this profile (default: $VITRINE_PROFILE or operator)');
  addTargetOptions(events, 'read')
    .addHelpText(
      'after',
      `
A partner sees the events about the artifacts and findings its scope covers and the records
of its own calls; others are left out, so the chain is checked across consecutive events
only (\`vitrine log verify\` checks every link from the public tiles). Exit 1 when any
check fails, naming the event.
Examples:
  $ vitrine log events --center europe --profile regulator
  $ vitrine log events --center us --origin europe --after 120 --json`,
    )
    .action((options: EventsOptions) =>
      runCommand(io, options.json === true, () => listEvents(io, options)),
    );
}

async function listEvents(io: CliIo, options: EventsOptions): Promise<void> {
  const target = await resolveTarget(options, 'read', io.env, io.cwd);
  const origin = options.origin ?? target.center;
  if (origin === undefined) throw usageError('name the log: --origin <center> or --center <id>');
  const keys = await trustedKeys(io, options, () => localVkeys(io, options));
  const key = originKey(keys, origin);
  const client = await signedLogClient(io, options, target);
  const chain = new EventChain(origin, key.publicKey);
  const json = options.json === true;
  const listed: ReturnType<typeof eventJson>[] = [];
  const tally = { events: 0, linked: 0, unlinked: 0, withheld: 0, failed: 0 };
  let firstFailure: CheckedEvent | undefined;
  let after = BigInt(options.after ?? 0);
  const wanted = options.limit ?? Number.POSITIVE_INFINITY;
  try {
    for (;;) {
      const ask = Math.min(PAGE, wanted - tally.events);
      if (ask <= 0) break;
      let got = 0;
      for await (const res of client.listEvents({ origin, afterSeq: after, limit: ask })) {
        if (!res.event) continue;
        got++;
        const checked = await chain.check(res.event);
        after = BigInt(checked.seq);
        tally.events++;
        if (checked.link === 'linked') tally.linked++;
        else tally.unlinked++;
        if (res.event.body.length === 0) tally.withheld++;
        if (checked.problems.length > 0) {
          tally.failed++;
          firstFailure ??= checked;
        }
        if (json) listed.push(eventJson(checked));
        else io.stdout.write(`${eventLine(checked)}\n`);
      }
      if (got < ask) break;
    }
  } catch (err) {
    throw explainRpcError(err, target);
  }
  const summary = `${tally.events} events of ${origin}: ${tally.events - tally.failed} signed and whole, ${tally.linked} chain links checked, ${tally.unlinked} not linkable (events before them not listed), ${tally.withheld} bodies withheld`;
  if (json) {
    writeJson(io.stdout, {
      center: target.label,
      origin,
      verified: firstFailure === undefined,
      events: listed,
      summary: tally,
    });
  } else {
    io.stdout.write(`${summary}\n`);
  }
  if (firstFailure !== undefined) {
    if (!json) {
      io.stderr.write(
        `vitrine: event ${origin}/${firstFailure.seq} failed its checks: ${firstFailure.problems.join('; ')}\n`,
      );
    }
    throw new ReportedFailure(EXIT_FAILURE);
  }
}

function eventJson(checked: CheckedEvent) {
  const header = checked.header;
  return {
    seq: checked.seq,
    hlc: header?.hlc.toString() ?? '',
    residency: header?.residency ?? [],
    change: describeBody(checked.body),
    ...(checked.body ? { actor: checked.body.actor } : {}),
    link: checked.link,
    ok: checked.problems.length === 0,
    ...(checked.problems.length > 0 ? { problems: checked.problems } : {}),
  };
}

function eventLine(checked: CheckedEvent): string {
  const status = checked.problems.length === 0 ? 'ok  ' : 'FAIL';
  const actor = checked.body ? ` by ${checked.body.actor}` : '';
  const problems = checked.problems.length > 0 ? `  (${checked.problems.join('; ')})` : '';
  return `${status}  ${checked.origin}/${checked.seq}  ${checked.link.padEnd(6)}  ${describeBody(checked.body)}${actor}${problems}`;
}
