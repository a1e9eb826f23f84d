import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';

/**
 * Adds one group of commands (`artifact …`, `finding …`, `dev`, `serve …`) to the
 * program. Each group lives in its own file and gets the injected `CliIo`; adding a
 * group to the CLI is one entry in `program.ts`.
 */
export type CommandGroup = (program: Command, io: CliIo) => void;
