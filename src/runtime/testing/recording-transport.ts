// SPDX-License-Identifier: Apache-2.0
import type { KubeRequest, KubeTransport } from '../kube-http.ts';

/** A reply of {@link RecordingTransport}: a value to resolve with, or an error to reject with. */
export type Reply = { readonly body?: unknown } | { readonly error: Error };

/**
 * A transport that records every request and answers from a handler; for testing adapters that sit on
 * {@link KubeTransport}.
 */
export class RecordingTransport implements KubeTransport {
  readonly requests: KubeRequest[] = [];
  handler: (req: KubeRequest) => Reply = (req) => ({ body: req.body ?? {} });

  async request<T>(req: KubeRequest): Promise<T> {
    this.requests.push(req);
    const reply = this.handler(req);
    if ('error' in reply) throw reply.error;
    return reply.body as T;
  }

  /** Requests other than GET. */
  writes(): KubeRequest[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }
}
