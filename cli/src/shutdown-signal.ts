/**
 * Resolves with the name of the first SIGINT or SIGTERM the process receives — how a
 * long-running command (`serve`, `dev`) learns it should stop cleanly.
 */
export function shutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
