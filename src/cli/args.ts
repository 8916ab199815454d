// SPDX-License-Identifier: Apache-2.0
/** A small argument parser: positionals plus `--flag`, `--flag=value`, `--flag value`. */

export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | true>;
}

/** Parses `argv` (without node and script). Flags may appear anywhere. */
export function parseArgs(argv: string[], booleanFlags: readonly string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const [key, value] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (value !== undefined) flags[key] = value;
    else if (booleanFlags.includes(key) || i + 1 >= argv.length || argv[i + 1]!.startsWith('--')) flags[key] = true;
    else flags[key] = argv[++i]!;
  }
  return { positionals, flags };
}

/** The string value of `--name`, or `fallback`. */
export function stringFlag(args: ParsedArgs, name: string, fallback: string): string {
  const v = args.flags[name];
  return typeof v === 'string' ? v : fallback;
}
