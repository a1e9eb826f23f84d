import { timestampDate } from '@bufbuild/protobuf/wkt';
import { callAuthInterceptor } from '@vitrine/credentials';
import { type GetStatusResponse, SyncService } from '@vitrine/proto/sync';
import { createGrpcClient } from '@vitrine/rpc';
import type { CliIo } from './cli-io.js';
import type { CommandGroup } from './command-group.js';
import { resolveTarget } from './endpoints.js';
import { writeResult } from './output.js';
import { centerAuth, proofCenterOf } from './registry-auth.js';
import { explainRpcError } from './rpc-errors.js';
import { runCommand } from './run-command.js';
import { addTargetOptions, type TargetOptions } from './target-options.js';
import { formatFields, formatTable } from './text-table.js';
import { formatBytes } from './units.js';

/** `vitrine sync status`: how a center's replication with its peers stands. */
export const syncCommands: CommandGroup = (program, io) => {
  const sync = program
    .command('sync')
    .description('replication between centers: status of each center’s links to its peers')
    .addHelpText(
      'after',
      `
Examples:
  $ vitrine sync status --center europe`,
    );
  const status = sync
    .command('status')
    .description(
      'show a center’s position (events held per origin), chunks it still lacks, event bodies it awaits, its convergence digest (equal at every center holding the same history, whatever residency withholds) and state digest (of the data it holds), and per peer: connected, last contact, events received, bodies and chunks fetched from it, last error',
    );
  addTargetOptions(status, 'read')
    .addHelpText(
      'after',
      `
--endpoint takes the sync service URL here (not the registry's).
Example:
  $ vitrine sync status --center asia --json`,
    )
    .action((options: TargetOptions) =>
      runCommand(io, options.json === true, () => showStatus(io, options)),
    );
};

async function showStatus(io: CliIo, options: TargetOptions): Promise<void> {
  const target = await resolveTarget(options, 'read', io.env, io.cwd, 'sync');
  let status: GetStatusResponse;
  try {
    const auth = await centerAuth(options, io.env, io.cwd);
    const interceptors = auth ? [callAuthInterceptor(auth, proofCenterOf(target))] : [];
    status = await createGrpcClient(SyncService, target.url, { interceptors }).getStatus({});
  } catch (err) {
    throw explainRpcError(err, target);
  }
  writeResult(io, options.json === true, {
    json: () => statusJson(status),
    human: () => statusLines(status, target.url),
  });
}

function statusJson(status: GetStatusResponse) {
  return {
    center: status.centerId,
    versionVector: Object.fromEntries(status.versionVector.map((e) => [e.origin, Number(e.seq)])),
    chunksMissing: Number(status.chunksMissing),
    bodiesPending: Number(status.bodiesPending),
    eventsHeldBack: Number(status.eventsHeldBack),
    convergenceDigest: status.convergenceDigest,
    stateDigest: status.stateDigest,
    forkedOrigins: status.forkedOrigins,
    peers: status.peers.map((p) => ({
      id: p.centerId,
      connected: p.connected,
      lastContact: p.lastContact ? timestampDate(p.lastContact).toISOString() : null,
      eventsReceived: Number(p.eventsReceived),
      eventsApplied: Number(p.eventsApplied),
      bodiesFetched: Number(p.bodiesFetched),
      chunksFetched: Number(p.chunksFetched),
      bytesFetched: Number(p.bytesFetched),
      lastError: p.lastError || null,
    })),
  };
}

function statusLines(status: GetStatusResponse, url: string): string[] {
  const json = statusJson(status);
  const position = Object.entries(json.versionVector)
    .map(([origin, seq]) => `${origin} ${seq}`)
    .join(', ');
  return [
    ...formatFields([
      ['center', `${json.center} (${url})`],
      ['position', position || 'no events yet'],
      ['chunks missing', String(json.chunksMissing)],
      ['bodies pending', bodiesPending(json.bodiesPending, json.eventsHeldBack)],
      ['convergence digest', json.convergenceDigest],
      ['state digest', json.stateDigest],
      [
        'forked logs',
        json.forkedOrigins.length === 0
          ? 'none'
          : `${json.forkedOrigins.join(', ')}: events refused (vitrine log evidence)`,
      ],
    ]),
    '',
    ...formatTable(
      [
        'peer',
        'connected',
        'last contact',
        'received',
        'applied',
        'bodies fetched',
        'chunks fetched',
        'last error',
      ],
      json.peers.map((p) => [
        p.id,
        p.connected ? 'yes' : 'no',
        p.lastContact ?? '-',
        String(p.eventsReceived),
        String(p.eventsApplied),
        String(p.bodiesFetched),
        `${p.chunksFetched} (${formatBytes(p.bytesFetched)})`,
        p.lastError ?? '-',
      ]),
    ),
  ];
}

/** Event bodies awaited from peers, and the events waiting behind them to be applied. */
function bodiesPending(pending: number, heldBack: number): string {
  if (pending === 0) return '0';
  return `${pending} (fetching from peers that may hold them; ${heldBack} later events wait to be applied)`;
}
