// The README, the docs and the protos' comments state constants the code defines: ports,
// batch sizes, chunk sizes, limits, default intervals. Each statement is found by a pattern
// and every number it captures is held to the constant it names, so a change to either side
// alone fails here. A statement reworded so that its pattern no longer matches fails too:
// update the pattern with it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BASE_PORT, DEV_CENTERS, devPorts } from '../cli/src/dev-federation.js';
import { HANDSHAKE_SKEW_MS } from '../libs/channel/src/index.js';
import { DEFAULT_CHUNKER_PARAMS } from '../libs/chunks/src/index.js';
import { DEFAULT_PROOF_SKEW_MS } from '../libs/credentials/src/index.js';
import { DEFAULT_READ_MAX_BYTES } from '../libs/rpc/src/index.js';
import { PGLITE_SETTINGS } from '../libs/storage/src/index.js';
import { DEFAULT_PROOF_SKEW_SECONDS } from '../services/access/src/config.js';
import { MAX_DATA_MESSAGE } from '../services/registry/src/artifacts.js';
import { MAX_BASE_RUN } from '../services/registry/src/chunk-replica/chunk-bases.js';
import { GROUP_INTERVAL_MS } from '../services/registry/src/chunk-replica/chunk-recorder.js';
import { DEFAULT_SKEW_SECONDS } from '../services/registry/src/config.js';
import { CALLS_PER_PEER, CHUNKS_PER_CALL } from '../services/sync/src/chunk-fetcher.js';
import { DEFAULT_MONITOR_INTERVAL_MS } from '../services/sync/src/config.js';
import { INGEST_BATCH } from '../services/sync/src/replicator.js';
import { FRAME_EVENTS, MAX_FETCH, MAX_FETCH_EVENTS } from '../services/sync/src/service.js';
import { MAX_WAITING_PER_PEER, UNUSED_SESSION_MS } from '../services/sync/src/sessions.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const KIB = 1024;
const MIB = 1024 * 1024;

/** One documented statement: where, the pattern that finds it, the code's values in order. */
interface Statement {
  readonly file: string;
  readonly pattern: RegExp;
  readonly values: readonly number[];
}

const ports = devPorts(DEFAULT_BASE_PORT);
const portOf = (id: string) => {
  const i = DEV_CENTERS.findIndex((c) => c.id === id);
  const center = ports.centers[i];
  if (center === undefined) throw new Error(`no dev center ${id}`);
  return center;
};

const STATEMENTS: Record<string, Statement[]> = {
  'the ports of vitrine dev': [
    {
      file: 'README.md',
      pattern: /Ports start at (\d+): the access service, then (\d+) \+ (\d+)·n/,
      values: [
        ports.access,
        portOf('asia').registry,
        portOf('europe').registry - portOf('asia').registry,
      ],
    },
    ...DEV_CENTERS.map((c) => ({
      file: 'README.md',
      pattern: new RegExp(
        `${c.id} +\\S+ +registry http://127\\.0\\.0\\.1:(\\d+) +sync http://127\\.0\\.0\\.1:(\\d+)`,
      ),
      values: [portOf(c.id).registry, portOf(c.id).sync],
    })),
    { file: 'README.md', pattern: /access +http:\/\/127\.0\.0\.1:(\d+)/, values: [ports.access] },
    {
      file: 'docs/getting-started.md',
      pattern: /\| access +\| (\d+) +\| N +\|/,
      values: [ports.access],
    },
    ...DEV_CENTERS.flatMap((c) => [
      {
        file: 'docs/getting-started.md',
        pattern: new RegExp(`\\| ${c.id} registry +\\| (\\d+) +\\| N\\+(\\d+) +\\|`),
        values: [portOf(c.id).registry, portOf(c.id).registry - ports.access],
      },
      {
        file: 'docs/getting-started.md',
        pattern: new RegExp(`\\| ${c.id} sync +\\| (\\d+) +\\| N\\+(\\d+) +\\|`),
        values: [portOf(c.id).sync, portOf(c.id).sync - ports.access],
      },
    ]),
  ],
  'events per frame and per transaction': [
    {
      file: 'docs/architecture.md',
      pattern: /carries the events that were ready when it was sent: up to ([\d,]+) \(about/,
      values: [FRAME_EVENTS],
    },
    {
      file: 'docs/architecture.md',
      pattern: /taken up\s+to ([\d,]+) per transaction/,
      values: [INGEST_BATCH],
    },
    {
      file: 'docs/decisions/0011-event-batches.md',
      pattern: /Up to ([\d,]+) events per frame \(`FRAME_EVENTS`/,
      values: [FRAME_EVENTS],
    },
    {
      file: 'proto/vitrine/sync/v1/sync.proto',
      pattern: /The events wanted with their bodies \(at most (\d+)\)/,
      values: [MAX_FETCH_EVENTS],
    },
  ],
  'chunk sizes and messages': [
    {
      file: 'docs/architecture.md',
      pattern: /FastCDC \((\d+)\/(\d+)\/(\d+) KiB min\/avg\/max\)/,
      values: chunkKiB(),
    },
    {
      file: 'docs/transparency-log.md',
      pattern: /FastCDC with (\d+)\/(\d+)\/(\d+) KiB/,
      values: chunkKiB(),
    },
    {
      file: 'docs/architecture.md',
      pattern: /metadata, then bytes in messages of at most\s+(\d+) MiB/,
      values: [MAX_DATA_MESSAGE / MIB],
    },
    {
      file: 'proto/vitrine/registry/v1/registry.proto',
      pattern: /At most (\d+) MiB per message/,
      values: [MAX_DATA_MESSAGE / MIB],
    },
    {
      file: 'proto/vitrine/registry/v1/registry.proto',
      pattern: /a data message exceeds (\d+) MiB/,
      values: [MAX_DATA_MESSAGE / MIB],
    },
    {
      file: 'docs/transport-hardening.md',
      pattern: /larger than the server's limit \((\d+) MiB by default/,
      values: [DEFAULT_READ_MAX_BYTES / MIB],
    },
  ],
  'fetching chunks from peers': [
    {
      file: 'docs/architecture.md',
      pattern: /each\s+peer takes batches of up to (\d+) chunks/,
      values: [CHUNKS_PER_CALL],
    },
    {
      file: 'docs/architecture.md',
      pattern: /one statement at most every (\d+) ms\)/,
      values: [GROUP_INTERVAL_MS],
    },
    {
      file: 'docs/architecture.md',
      pattern: /at most (\d+) chunks asked of\s+a peer at once/,
      values: [CHUNKS_PER_CALL * CALLS_PER_PEER],
    },
    {
      file: 'docs/decisions/0006-chunk-fetch-calls.md',
      pattern: /\*\*Decision\.\*\* (\d+) chunks per call/,
      values: [CHUNKS_PER_CALL],
    },
    {
      file: 'proto/vitrine/sync/v1/sync.proto',
      pattern: /At most (\d+) digests per call and (\d+)\s+\/\/ chunks per base run/,
      values: [MAX_FETCH, MAX_BASE_RUN],
    },
    {
      file: 'proto/vitrine/sync/v1/sync.proto',
      pattern: /SHA-256 digests of the run's chunks, in order, at most (\d+)/,
      values: [MAX_BASE_RUN],
    },
  ],
  'clocks, windows and intervals': [
    {
      file: 'README.md',
      pattern: /the clocks of a\s+federation's centers must agree within (\d+) s/,
      values: [HANDSHAKE_SKEW_MS / 1000],
    },
    {
      file: 'docs/transport-hardening.md',
      pattern: /more than (\d+) s from its own clock/,
      values: [HANDSHAKE_SKEW_MS / 1000],
    },
    {
      file: 'proto/vitrine/sync/v1/sync.proto',
      pattern: /a timestamp within (\d+) s of this center's clock/,
      values: [HANDSHAKE_SKEW_MS / 1000],
    },
    {
      file: 'docs/transport-hardening.md',
      pattern: /until some are used or expire \((\d+) s\)/,
      values: [UNUSED_SESSION_MS / 1000],
    },
    {
      file: 'proto/vitrine/sync/v1/sync.proto',
      pattern: /when the caller has (\d+) sessions not yet used/,
      values: [MAX_WAITING_PER_PEER],
    },
    {
      file: 'docs/access.md',
      pattern: /(\d+) s of clock skew \(`access\.skewSeconds`\)/,
      values: [DEFAULT_SKEW_SECONDS],
    },
    {
      file: 'docs/configuration.md',
      pattern: /optionally\s+`skewSeconds` \((\d+)\)/,
      values: [DEFAULT_SKEW_SECONDS],
    },
    {
      file: 'docs/proof-of-possession.md',
      pattern: /access service's is `proofSkewSeconds`, (\d+) s by default/,
      values: [DEFAULT_PROOF_SKEW_SECONDS],
    },
    {
      file: 'docs/proof-of-possession.md',
      pattern: /≤ (\d+) s` \(the registry's window/,
      values: [DEFAULT_PROOF_SKEW_MS / 1000],
    },
    {
      file: 'docs/transparency-log.md',
      pattern: /`log\.monitorIntervalMs`, (\d+) s by default/,
      values: [DEFAULT_MONITOR_INTERVAL_MS / 1000],
    },
  ],
  'the embedded database': [
    {
      file: 'docs/configuration.md',
      pattern: /Embedded databases start with (\d+) MiB of shared buffers/,
      values: [megabytes(PGLITE_SETTINGS.shared_buffers)],
    },
  ],
};

/** FastCDC's minimum, average and maximum chunk sizes in KiB. */
function chunkKiB(): number[] {
  const { minSize, avgSize, maxSize } = DEFAULT_CHUNKER_PARAMS;
  return [minSize / KIB, avgSize / KIB, maxSize / KIB];
}

/** A PostgreSQL size setting such as `16MB`, in MB. */
function megabytes(setting: string | undefined): number {
  const match = /^(\d+)MB$/.exec(setting ?? '');
  if (!match) throw new Error(`not a size in MB: ${setting}`);
  return Number(match[1]);
}

/** A file of the repository, as text (patterns use `\s+` where a statement may wrap). */
function readText(file: string): string {
  return readFileSync(join(root, file), 'utf8');
}

describe.each(Object.entries(STATEMENTS))('documented constants: %s', (_, statements) => {
  it.each(statements.map((s) => [`${s.file} ${s.pattern.source}`, s] as const))(
    '%s',
    (_name, { file, pattern, values }) => {
      const text = readText(file);
      const global = new RegExp(pattern.source, `${pattern.flags}g`);
      const matches = [...text.matchAll(global)];
      expect(matches.length, `${file} no longer states this: update the pattern`).toBeGreaterThan(
        0,
      );
      for (const match of matches) {
        const stated = match.slice(1).map((n) => Number((n ?? '').replaceAll(',', '')));
        expect(stated, `${file}: "${match[0]}"`).toEqual(values);
      }
    },
  );
});
