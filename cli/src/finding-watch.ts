import { Code, ConnectError } from '@connectrpc/connect';
import type { SeverityWord, StatusWord } from '@vitrine/proto/enum-words';
import { findingStatuses, severities } from '@vitrine/proto/enum-words';
import { FindingChangeKind, type WatchFindingsResponse } from '@vitrine/proto/registry';
import { Backoff } from '@vitrine/rpc';
import type { CliIo } from './cli-io.js';
import { findingJson } from './finding-view.js';
import { writeJsonLine, writeLines } from './output.js';
import type { RegistryClient } from './registry-client.js';
import { withRegistry } from './run-command.js';
import type { TargetOptions } from './target-options.js';

/** The flags of `vitrine finding watch`. */
export interface FindingWatchOptions extends TargetOptions {
  readonly product?: string | undefined;
  readonly status?: StatusWord | undefined;
  readonly severity?: SeverityWord | undefined;
  readonly from?: string | undefined;
}

/** Reconnects start after a short wait and back off to at most this. */
const RECONNECT = { initialMs: 250, maxMs: 15_000 };

/**
 * Failures worth a reconnect: the center or the network went away. A refusal (a bad
 * position, a credential that does not allow it) would only be refused again.
 */
const TRANSIENT = new Set([
  Code.Unavailable,
  Code.Unknown,
  Code.Internal,
  Code.Aborted,
  Code.DeadlineExceeded,
  Code.ResourceExhausted,
]);

/**
 * Prints finding changes at a center as they commit, until `stop` aborts (SIGINT). A lost
 * connection is retried with back-off, resuming after the last position received, so no
 * change is missed or printed twice.
 */
export async function watchFindings(
  io: CliIo,
  options: FindingWatchOptions,
  stop: AbortSignal,
): Promise<void> {
  const json = options.json === true;
  await withRegistry(io, options, 'read', async ({ client, target }) => {
    const backoff = new Backoff(RECONNECT);
    let after = options.from ?? '';
    if (!json) writeLines(io.stderr, [`watching findings at ${target.label} (Ctrl-C to stop)`]);
    while (!stop.aborted) {
      // A stream the center ended (shutting down) is retried like a lost one.
      let lost = 'the center ended the stream';
      try {
        for await (const message of stream(client, options, after, stop)) {
          backoff.reset();
          after = message.position;
          if (json) writeJsonLine(io.stdout, messageJson(message));
          else if (message.change) writeLines(io.stdout, [changeLine(message)]);
        }
      } catch (err) {
        if (stop.aborted) return;
        const failure = ConnectError.from(err);
        if (!TRANSIENT.has(failure.code)) throw err;
        lost = failure.rawMessage;
      }
      if (stop.aborted) return;
      const ms = Math.round(backoff.delayMs);
      writeLines(io.stderr, [`lost ${target.label} (${lost}); reconnecting in about ${ms} ms`]);
      await backoff.wait(stop);
    }
  });
}

function stream(
  client: RegistryClient,
  options: FindingWatchOptions,
  after: string,
  stop: AbortSignal,
) {
  return client.watchFindings(
    {
      product: options.product ?? '',
      status: options.status === undefined ? 0 : findingStatuses.value(options.status),
      severity: options.severity === undefined ? 0 : severities.value(options.severity),
      after,
    },
    { signal: stop },
  );
}

const KINDS: Record<FindingChangeKind, string> = {
  [FindingChangeKind.UNSPECIFIED]: 'changed',
  [FindingChangeKind.CREATED]: 'created',
  [FindingChangeKind.UPDATED]: 'updated',
  [FindingChangeKind.COMMENTED]: 'commented',
};

/** One `--json` line: a change, or a heartbeat that only moves the position. */
function messageJson(message: WatchFindingsResponse) {
  const { change } = message;
  if (!change) return { position: message.position, heartbeat: true };
  return {
    position: message.position,
    change: KINDS[change.kind],
    origin: change.origin,
    seq: change.seq.toString(),
    finding: change.finding ? findingJson(change.finding) : null,
  };
}

/** `europe-17 updated (asia/42): high, triaged — Title`. */
function changeLine(message: WatchFindingsResponse): string {
  const change = message.change;
  const f = change?.finding;
  if (!change || !f) return '';
  const state = `${severities.label(f.severity)}, ${findingStatuses.label(f.status)}`;
  return `${f.id} ${KINDS[change.kind]} (${change.origin}/${change.seq}): ${state} — ${f.title}`;
}
