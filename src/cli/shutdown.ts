// SPDX-License-Identifier: Apache-2.0
/**
 * Ctrl-C handling of a foreground command: the first SIGINT or SIGTERM asks for a
 * graceful stop (and says so), a second one forces it at once.
 */

export interface Shutdown {
  /** Resolves at the first signal. */
  readonly requested: Promise<NodeJS.Signals>;
  /** Whether a stop was asked for. */
  readonly isRequested: () => boolean;
  /** Removes the signal handlers. */
  dispose(): void;
}

/**
 * Installs the handlers. `force` runs at the second signal and must kill what is left
 * without waiting; the process then exits with 130.
 */
export function handleShutdown(force: () => Promise<void> | void, say: (msg: string) => void = (m) => console.error(m)): Shutdown {
  let count = 0;
  let resolve!: (s: NodeJS.Signals) => void;
  const requested = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const onSignal = (signal: NodeJS.Signals): void => {
    count++;
    if (count === 1) {
      say('\nStopping panalysis (press Ctrl-C again to force)...');
      resolve(signal);
      return;
    }
    say('Forcing the stop.');
    void Promise.resolve(force()).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    requested,
    isRequested: () => count > 0,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
