// SPDX-License-Identifier: Apache-2.0
/** `panalysis gateway [--config F] [--port P] [--probe-port P]`. */
import type { ParsedArgs } from './args.ts';
import { stringFlag } from './args.ts';
import { runGateway } from '../gateway/run.ts';

export async function gatewayCommand(args: ParsedArgs): Promise<void> {
  const code = await runGateway({
    configPath: stringFlag(args, 'config', process.env.PANALYSIS_CONFIG ?? '/etc/panalysis/operator.yaml'),
    port: Number(stringFlag(args, 'port', '8080')),
    probePort: Number(stringFlag(args, 'probe-port', '8082')),
    configPollMs: Number(stringFlag(args, 'config-poll-ms', '5000')),
  });
  process.exit(code);
}
