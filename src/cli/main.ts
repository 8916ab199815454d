#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
/** The `panalysis` command: one entry point for every component. */
import { parseArgs, stringFlag } from './args.ts';
import { clusterDown, clusterEnv, clusterStatus, clusterUp, runCluster } from './cluster-commands.ts';
import { gatewayCommand } from './gateway-command.ts';
import { operatorCommand } from './operator-command.ts';
import { runUp } from './up.ts';
import { usageCommand } from './usage-command.ts';

const USAGE = `Usage: panalysis <command>

  operator [--config F] [--leader-elect] [--lease-namespace NS] [--port P]
                           run the controllers (KUBECONFIG or in-cluster credentials)
  gateway [--config F] [--port P] [--probe-port P]
                           serve sessions to browsers: OpenID login, access checks, proxies
  up [--no-real-node]      start the product on its embedded default (local cluster, CRDs, demo);
                           with a real node (kubelet, containerd) where this machine can run one
  cluster up [--name N] [--real-node]
                           start a local Kubernetes control plane in the background
  cluster down [--name N]  stop it and remove its state
  cluster env [--name N]   print the shell lines that point kubectl at it
  cluster status           say whether it runs
  cluster run [--name N]   run it in the foreground (Ctrl-C stops it)
  usage [--proposal P] [--since D] [--until D] [--format csv|json] [--namespace NS]
                           export the accounting of finished session runs (--help for details)
`;

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv, ['leader-elect', 'local', 'help', 'real-node', 'no-real-node']);
  const [command, sub] = args.positionals;
  const name = stringFlag(args, 'name', 'panalysis');
  if (command === 'up') return runUp(args);
  if (command === 'operator') return operatorCommand(args);
  if (command === 'gateway') return gatewayCommand(args);
  if (command === 'usage') return usageCommand(args);
  if (command === 'cluster') {
    if (sub === 'up') return clusterUp(name);
    if (sub === 'down') return clusterDown(name);
    if (sub === 'env') return clusterEnv(name);
    if (sub === 'status') return clusterStatus(name);
    if (sub === 'run') return runCluster(name);
  }
  if (command === 'help' || args.flags.help) {
    process.stdout.write(USAGE);
    return;
  }
  process.stderr.write(USAGE);
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`panalysis: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
