/**
 * What every replication sub-benchmark gets and gives back: the running federation, a
 * scratch folder, the rsync baseline, the sizes chosen on the command line; a table of
 * figures (medians, ratios against a baseline measured in the same run).
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { ArtifactKind, ArtifactState } from '@vitrine/proto/artifact';
import type { BenchFederation, CenterId } from './bench-federation.js';
import { waitFor } from './measure.js';
import { pushFile } from './push-file.js';
import type { LoopbackSsh } from './ssh-loopback.js';
import type { LoopbackSyncthing } from './syncthing-loopback.js';

/** The sizes a run was asked for. */
export interface BenchSizes {
  /** Artifact size for the artifact benchmarks, in MiB. */
  readonly artifactMiB: number;
  /** Repetitions of each timed artifact transfer (medians are reported). */
  readonly runs: number;
  /** Findings created for the bulk findings benchmark. */
  readonly findings: number;
  /** Single finding updates whose propagation is timed. */
  readonly updates: number;
  /** Log lengths (findings created at the origin) at which catching up on 10 is timed. */
  readonly logs: readonly number[];
}

/** Everything a sub-benchmark runs against. */
export interface BenchContext {
  readonly federation: BenchFederation;
  /** Scratch folder for input files and rsync destinations. */
  readonly work: string;
  /** The rsync-over-SSH baseline (sshd started on first use). */
  readonly ssh: () => Promise<LoopbackSsh>;
  /** The Syncthing baseline (daemons started on first use), or why it cannot run here. */
  readonly syncthing: () => Promise<LoopbackSyncthing | string>;
  readonly sizes: BenchSizes;
}

/** One sub-benchmark's figures. */
export interface BenchTable {
  readonly title: string;
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** The centers an artifact published at the origin replicates to. */
export const ORIGIN: CenterId = 'europe';
export const RECEIVERS: readonly CenterId[] = ['asia', 'us'];

/** An artifact published at the origin, and how long its upload took. */
export interface Published {
  readonly id: string;
  readonly pushMs: number;
  readonly chunksStored: number;
}

/** Uploads a file at the origin center (residency: everywhere). */
export async function publish(
  federation: BenchFederation,
  file: string,
  metadata: { version: string; supersedes?: string },
): Promise<Published> {
  const start = performance.now();
  const pushed = await pushFile(federation.center(ORIGIN).registry, file, {
    kind: ArtifactKind.UPDATE,
    product: 'bench',
    ...metadata,
  });
  const id = pushed.artifact?.id;
  if (!id) throw new Error('the upload returned no artifact');
  return { id, pushMs: performance.now() - start, chunksStored: pushed.chunksStored };
}

/**
 * A lookup at a center that may not hold the thing yet: NOT_FOUND is `undefined`, any other
 * failure (say, a call refused) ends the benchmark rather than polling forever.
 */
export function unlessNotFound<T>(call: Promise<T>): Promise<T | undefined> {
  return call.catch((err: unknown) => {
    if (ConnectError.from(err).code === Code.NotFound) return undefined;
    throw err;
  });
}

/** How often receivers are asked whether an artifact is available: seldom enough not to load them. */
const AVAILABLE_POLL_MS = 100;

/** Milliseconds until `id` is available (every byte held and verified) at every receiver. */
export function untilAvailable(federation: BenchFederation, id: string): Promise<number> {
  return waitFor(async () => {
    for (const center of RECEIVERS) {
      const got = await unlessNotFound(federation.center(center).registry.getArtifact({ id }));
      if (got?.artifact?.state !== ArtifactState.AVAILABLE) return false;
    }
    return true;
  }, AVAILABLE_POLL_MS);
}

/** `12.34 s` */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** `1.23×` */
export function times(ratio: number): string {
  return `${ratio.toFixed(2)}×`;
}

/** `41.9 MB` (decimal, as rsync and the issue count) */
export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
