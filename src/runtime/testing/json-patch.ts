// SPDX-License-Identifier: Apache-2.0
import { KubeApiError } from '../kube-http.ts';
import type { JsonPatchOp } from '../kube.ts';

type Container = Record<string, unknown> | unknown[];

/**
 * Applies RFC 6902 `add`, `remove`, `replace` and `test` to a copy of `doc`, the way the API server does
 * (a `test` for `null` passes on a missing member, as in evanphx/json-patch).
 *
 * Errors: a failed `test` or a bad path throws `KubeApiError` 422, like the API server.
 */
export function applyJsonPatch<T>(doc: T, ops: readonly JsonPatchOp[]): T {
  const root = { doc: structuredClone(doc) as unknown };
  for (const op of ops) {
    const { parent, key } = locate(root, op.path);
    const current = Array.isArray(parent) ? parent[Number(key)] : parent[key];
    switch (op.op) {
      case 'test':
        if (JSON.stringify(current ?? null) !== JSON.stringify(op.value ?? null)) invalid(`test failed at ${op.path}`);
        break;
      case 'add':
        if (Array.isArray(parent)) parent.splice(key === '-' ? parent.length : Number(key), 0, op.value);
        else parent[key] = op.value;
        break;
      case 'replace':
      case 'remove':
        if (current === undefined) invalid(`no value at ${op.path}`);
        if (Array.isArray(parent)) parent.splice(Number(key), 1, ...(op.op === 'replace' ? [op.value] : []));
        else if (op.op === 'replace') parent[key] = op.value;
        else delete parent[key];
        break;
      default:
        invalid(`unsupported op ${op.op}`);
    }
  }
  return root.doc as T;
}

function locate(root: { doc: unknown }, path: string): { parent: Container; key: string } {
  const tokens = ['doc', ...path.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))];
  let parent: unknown = root;
  for (const token of tokens.slice(0, -1)) {
    parent = Array.isArray(parent) ? parent[Number(token)] : (parent as Record<string, unknown> | undefined)?.[token];
    if (parent === null || typeof parent !== 'object') invalid(`missing parent in ${path}`);
  }
  return { parent: parent as Container, key: tokens.at(-1) ?? '' };
}

function invalid(message: string): never {
  throw new KubeApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${message}`);
}
