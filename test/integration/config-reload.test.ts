// SPDX-License-Identifier: Apache-2.0
/** The operator picks up a configuration change without a restart, and ignores an invalid one. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { freshNamespace, waitFor } from './helpers.ts';
import { deleteFreshNamespaces } from './cleanup.ts';
import { DEMO_CONFIG, startOperator } from './operator.ts';
import type { OperatorProcess } from './operator.ts';
import { createSession, getSession, isPhase, readyReason, waitSession } from './sessions.ts';

let operator: OperatorProcess | undefined;
afterAll(async () => {
  await deleteFreshNamespaces();
  await operator?.stop();
});

describe('configuration reload', () => {
  it('serves a profile added to the running operator, and keeps the last good configuration on a broken edit', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'panalysis-reload-')), 'operator.yaml');
    const config = parse(readFileSync(DEMO_CONFIG, 'utf8')) as Record<string, any>;
    writeFileSync(file, stringify(config));
    operator = await startOperator({ config: file });
    const ns = await freshNamespace('reload');
    await createSession(ns, 'nb', { user: 'alice', type: 'jupyter', profile: 'matlab' });
    await waitSession(ns, 'nb', 'refused', (s) => readyReason(s) === 'UnknownProfile');

    writeFileSync(file, 'profiles: [not, a, config');
    await waitFor('the broken edit to be rejected', async () => /Rejected configuration change/.test(operator!.logs.join('')), 30_000);
    expect(readyReason(await getSession(ns, 'nb'))).toBe('UnknownProfile');

    config.profiles.push({ ...config.profiles[0], name: 'matlab', displayName: 'MATLAB' });
    writeFileSync(file, stringify(config));
    await waitSession(ns, 'nb', 'Running', isPhase('Running'));
    expect(operator.logs.join('')).toMatch(/Reloaded configuration/);
  });
});
