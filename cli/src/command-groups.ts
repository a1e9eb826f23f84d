import { accessCommands } from './access-commands.js';
import { artifactCommands } from './artifact-commands.js';
import type { CommandGroup } from './command-group.js';
import { devCommand } from './dev-command.js';
import { federationCommands } from './federation-commands.js';
import { findingCommands } from './finding-commands.js';
import { healthCommand } from './health-command.js';
import { logCommands } from './log-commands.js';
import { partnerCommands } from './partner-commands.js';
import { serveCommands } from './serve-command.js';
import { setupCommands } from './setup-commands.js';
import { syncCommands } from './sync-commands.js';
import { verifyCommands } from './verify-commands.js';

/**
 * Every command group of `vitrine`, in the order `vitrine --help` lists them. A new
 * group (`dev`, `serve`) is one more entry here.
 */
export const COMMAND_GROUPS: readonly CommandGroup[] = [
  artifactCommands,
  findingCommands,
  partnerCommands,
  accessCommands,
  syncCommands,
  federationCommands,
  logCommands,
  verifyCommands,
  setupCommands,
  devCommand,
  serveCommands,
  healthCommand,
];
