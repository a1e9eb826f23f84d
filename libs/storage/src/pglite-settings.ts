import { PGlite } from '@electric-sql/pglite';

/**
 * Server settings every embedded database starts with, on top of PGlite's own start
 * parameters. PGlite keeps Postgres's shared memory inside its WebAssembly memory and
 * touches all of it at start, so the stock `shared_buffers = 128MB` of a new cluster made
 * each center process hold 128 MiB more than it used. Pages outside the buffers are read
 * through the operating system's file cache, so a small buffer pool costs a system call per
 * page rather than a disk read. 16 MiB of buffers instead of 128 MiB keeps about that
 * difference out of each idle process (docs/decisions/0008-pglite-shared-buffers.md).
 */
export const PGLITE_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '16MB',
  // PGlite runs Postgres in single-user mode: one backend, no autovacuum workers. Their
  // shared memory slots, sized for 100 connections and 16 workers, held about 4 MiB.
  max_connections: '8',
  autovacuum_worker_slots: '1',
};

/**
 * PGlite's start parameters with {@link PGLITE_SETTINGS} added as `-c name=value`, and
 * `shared_buffers` replaced by `sharedBuffers` when given (a size such as `8MB`).
 */
export function pgliteStartParams(sharedBuffers?: string): string[] {
  const settings = {
    ...PGLITE_SETTINGS,
    ...(sharedBuffers === undefined ? {} : { shared_buffers: sharedBuffers }),
  };
  return [
    ...PGlite.defaultStartParams,
    ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
  ];
}
