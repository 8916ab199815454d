// SPDX-License-Identifier: Apache-2.0
/**
 * Writes the generated files (crds/*.yaml) from src/api. With --check, writes nothing
 * and exits 1 if any generated file differs from what is checked in.
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles } from './generated-files.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
let stale = 0;
for (const [path, content] of generatedFiles()) {
  const file = join(root, path);
  const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (current === content) continue;
  if (check) {
    console.error(`panalysis: ${path} is out of date; run 'npm run gen' and commit the result`);
    stale++;
  } else {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    console.log(`Wrote ${path}`);
  }
}
if (check && stale === 0) console.log('Generated files are up to date');
process.exit(stale > 0 ? 1 : 0);
