// SPDX-License-Identifier: Apache-2.0
/**
 * Writes the generated files (CRDs, the chart's CRDs, RBAC and values schema, manifests/install.yaml, the API
 * reference and the operator and gateway RBAC pages under docs/). With --check, writes nothing
 * and exits 1 if any generated file differs from what is checked in.
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles, renderInstallManifest } from './generated-files.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
let stale = 0;
function update(path: string, content: string): void {
  const file = join(root, path);
  const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (current === content) return;
  if (check) {
    console.error(`panalysis: ${path} is out of date; run 'npm run gen' and commit the result`);
    stale++;
  } else {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    console.log(`Wrote ${path}`);
  }
}
for (const [path, content] of generatedFiles()) update(path, content);
// The install manifest is rendered by helm from the chart as written above.
update('manifests/install.yaml', renderInstallManifest());
if (check && stale === 0) console.log('Generated files are up to date');
process.exit(stale > 0 ? 1 : 0);
