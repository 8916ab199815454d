// SPDX-License-Identifier: Apache-2.0
import { KubeApiError } from '../kube-http.ts';
import type { Lease, LeaseApi, LeaseSpec } from '../leader.ts';

/** An in-memory Lease endpoint with resourceVersion checks (409 on a stale replace or a duplicate create). */
export class FakeLeases implements LeaseApi {
  lease: Lease | undefined;
  #rv = 1;

  async get(): Promise<Lease | undefined> {
    return structuredClone(this.lease);
  }

  async create(lease: Lease): Promise<Lease> {
    if (this.lease) throw new KubeApiError(409, 'AlreadyExists', 'lease exists');
    return this.#put(lease);
  }

  async replace(lease: Lease): Promise<Lease> {
    if (lease.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) {
      throw new KubeApiError(409, 'Conflict', 'stale resourceVersion');
    }
    return this.#put(lease);
  }

  /** Stores a lease as if written by another replica. */
  seed(spec: LeaseSpec, name = 'op', namespace = 'sys'): void {
    this.#put({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec });
  }

  #put(lease: Lease): Lease {
    this.lease = { ...structuredClone(lease), metadata: { ...lease.metadata, resourceVersion: String(++this.#rv) } };
    return structuredClone(this.lease);
  }
}

/** One replica's connection to a {@link LeaseApi}, which can fail or hang independently of the others. */
export class LeaseLink implements LeaseApi {
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  readonly #api: LeaseApi;

  constructor(api: LeaseApi) {
    this.#api = api;
  }

  get = (namespace: string, name: string): Promise<Lease | undefined> => this.#call(() => this.#api.get(namespace, name));
  create = (lease: Lease): Promise<Lease> => this.#call(() => this.#api.create(lease));
  replace = (lease: Lease): Promise<Lease> => this.#call(() => this.#api.replace(lease));

  #call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.mode === 'hang') return new Promise(() => undefined);
    if (this.mode === 'fail') return Promise.reject(new KubeApiError(503, 'ServiceUnavailable', 'apiserver down'));
    return fn();
  }
}
