export { artifactCommands } from './artifact-commands.js';
export {
  CliError,
  type CliErrorCode,
  EXIT_FAILURE,
  EXIT_USAGE,
  type LocalErrorCode,
  ReportedFailure,
  usageError,
} from './cli-error.js';
export { type CliIo, processIo } from './cli-io.js';
export type { CommandGroup } from './command-group.js';
export { COMMAND_GROUPS } from './command-groups.js';
export {
  type Access,
  type FederationFile,
  readFederation,
  resolveTarget,
  type Target,
  type TargetFlags,
  vitrineHome,
} from './endpoints.js';
export { findingCommands } from './finding-commands.js';
export { reportError, writeJson, writeLines } from './output.js';
export { buildPGliteTemplate } from './pglite-template.js';
export { buildProgram, registerCommandGroup } from './program.js';
export { connectRegistry, type RegistryClient } from './registry-client.js';
export { callRegistry, type RegistryCall, runCommand, withRegistry } from './run-command.js';
export { createTransferProgress, type TransferProgress } from './transfer-progress.js';
export { main } from './vitrine-main.js';
