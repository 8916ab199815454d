// SPDX-License-Identifier: Apache-2.0
/**
 * A JSON REST client for the Kubernetes API that sends and returns objects exactly as
 * JSON, using a client-node KubeConfig for authentication and TLS.
 *
 * Why: client-node's KubernetesObjectApi serialises known kinds through its typed
 * models, which renames or drops keys such as `x-kubernetes-int-or-string` and turns
 * timestamps into Date objects; server-side apply and equality checks need raw JSON.
 */
import { HttpMethod, RequestContext } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { fetch } from 'undici';
import type { Dispatcher } from 'undici';

/** An object as the apiserver stores it. */
export interface RawObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** A non-2xx answer of the apiserver, with its Status body. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly body: unknown;
  constructor(code: number, body: unknown) {
    const status = body as { message?: string; reason?: string } | undefined;
    super(status?.message ?? `HTTP ${code}`);
    this.code = code;
    this.reason = status?.reason ?? '';
    this.body = body;
  }
}

/** How a kind maps to its REST path. */
export interface ResourceInfo {
  plural: string;
  namespaced: boolean;
}

/** The answer of {@link RestClient.stream}: a web stream of the body and a way to stop it. */
export interface StreamHandle {
  body: ReadableStream<Uint8Array>;
  abort: () => void;
}

const METHODS: Record<string, HttpMethod> = { GET: HttpMethod.GET, POST: HttpMethod.POST, PUT: HttpMethod.PUT, PATCH: HttpMethod.PATCH, DELETE: HttpMethod.DELETE };

/**
 * Raw JSON access to the apiserver of `kc`'s current context.
 * Guarantees: bodies are sent with JSON.stringify and parsed with JSON.parse, nothing else.
 */
export class RestClient {
  private readonly kc: KubeConfig;
  private readonly server: string;
  private readonly discovery = new Map<string, Promise<Map<string, ResourceInfo>>>();

  constructor(kc: KubeConfig) {
    this.kc = kc;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/$/, '');
  }

  private async prepare(method: string, path: string, headers: Record<string, string>): Promise<{ url: string; init: { method: string; headers: Record<string, string>; dispatcher?: Dispatcher } }> {
    const url = `${this.server}${path}`;
    const ctx = new RequestContext(url, METHODS[method] ?? HttpMethod.GET);
    await this.kc.applySecurityAuthentication(ctx);
    return { url, init: { method, headers: { ...ctx.getHeaders(), accept: 'application/json', ...headers }, dispatcher: ctx.getDispatcher() as Dispatcher | undefined } };
  }

  /**
   * Sends one request and returns the parsed JSON answer.
   * @throws ApiError for any non-2xx status.
   */
  async request<T = RawObject>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const { url, init } = await this.prepare(method, path, body === undefined ? {} : { 'content-type': contentType });
    const res = await fetch(url, { ...init, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new ApiError(res.status, parsed);
    return parsed as T;
  }

  /** Opens a streaming GET (watch); the caller reads lines from `body`. */
  async stream(path: string, signal?: AbortSignal): Promise<StreamHandle> {
    const controller = new AbortController();
    signal?.addEventListener('abort', () => controller.abort(), { once: true });
    const { url, init } = await this.prepare('GET', path, {});
    const res = await fetch(url, { ...init, signal: controller.signal });
    if (!res.ok || !res.body) {
      const text = await res.text();
      throw new ApiError(res.status, text ? (JSON.parse(text) as unknown) : undefined);
    }
    return { body: res.body as ReadableStream<Uint8Array>, abort: () => controller.abort() };
  }

  /** The REST resource of `apiVersion`/`kind`, from discovery (cached per group version). */
  async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    let resources = this.discovery.get(apiVersion);
    if (!resources) {
      const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      resources = this.request<{ resources: Array<{ name: string; kind: string; namespaced: boolean }> }>('GET', base).then(
        (list) => new Map(list.resources.filter((r) => !r.name.includes('/')).map((r) => [r.kind, { plural: r.name, namespaced: r.namespaced }])),
      );
      resources.catch(() => this.discovery.delete(apiVersion));
      this.discovery.set(apiVersion, resources);
    }
    const info = (await resources).get(kind);
    if (!info) {
      this.discovery.delete(apiVersion);
      throw new Error(`the apiserver does not serve kind ${kind} in ${apiVersion}`);
    }
    return info;
  }

  /** The collection path of a kind (namespace ignored for cluster-scoped kinds). */
  async collectionPath(apiVersion: string, kind: string, namespace?: string): Promise<string> {
    const info = await this.resource(apiVersion, kind);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    return info.namespaced && namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${info.plural}` : `${base}/${info.plural}`;
  }

  /** The path of one object. */
  async objectPath(obj: RawObject): Promise<string> {
    if (!obj.apiVersion || !obj.kind || !obj.metadata?.name) throw new Error('an object needs apiVersion, kind and metadata.name');
    return `${await this.collectionPath(obj.apiVersion, obj.kind, obj.metadata.namespace)}/${encodeURIComponent(obj.metadata.name)}`;
  }

  /** Server-side apply of `obj` (force) with `fieldManager`; `subresource` e.g. 'status'. */
  async apply<T extends RawObject>(obj: T, fieldManager: string, subresource?: string): Promise<T> {
    const path = `${await this.objectPath(obj)}${subresource ? `/${subresource}` : ''}?fieldManager=${encodeURIComponent(fieldManager)}&force=true`;
    return this.request<T>('PATCH', path, obj, 'application/apply-patch+yaml');
  }
}
