// SPDX-License-Identifier: Apache-2.0
/** `panalysis operator [--config F] [--leader-elect] [--lease-namespace NS] [--port P] [--id ID] [--resync-seconds S]`. */
import type { ParsedArgs } from './args.ts';
import { stringFlag } from './args.ts';
import { runOperator } from '../operator/run.ts';

export async function operatorCommand(args: ParsedArgs): Promise<void> {
  const configPath = stringFlag(args, 'config', process.env.PANALYSIS_CONFIG ?? '/etc/panalysis/operator.yaml');
  const code = await runOperator({
    configPath,
    leaderElect: args.flags['leader-elect'] === true || args.flags['leader-elect'] === 'true',
    leaseNamespace: stringFlag(args, 'lease-namespace', process.env.POD_NAMESPACE ?? 'panalysis-system'),
    identity: typeof args.flags.id === 'string' ? args.flags.id : undefined,
    port: Number(stringFlag(args, 'port', '8081')),
    configPollMs: Number(stringFlag(args, 'config-poll-ms', '5000')),
    resyncMs: Number(stringFlag(args, 'resync-seconds', '600')) * 1000,
    // Testing only (integration tests move the controllers' clock); not in the usage text, never set by the Helm chart.
    testingClockOffsetFile: typeof args.flags['testing-clock-offset-file'] === 'string' ? args.flags['testing-clock-offset-file'] : undefined,
  });
  process.exit(code);
}
