/**
 * The few Kubernetes API calls the executor and the node inventory make, through the official
 * client (`@kubernetes/client-node` 1.4): clients from a KubeConfig, per-request options (abort on a
 * signal, a JSON merge patch) and failures as a status plus the API's own message.
 */
import { ApiException, CoreV1Api, Observable, PatchStrategy, PolicyV1Api, setHeaderOptions, type ConfigurationOptions, type KubeConfig, type ObservableMiddleware } from '@kubernetes/client-node';

export interface KubernetesClients {
  core: CoreV1Api;
  policy: PolicyV1Api;
}

export function kubernetesClients(kubeConfig: KubeConfig): KubernetesClients {
  return { core: kubeConfig.makeApiClient(CoreV1Api), policy: kubeConfig.makeApiClient(PolicyV1Api) };
}

type RequestOptions = ConfigurationOptions<ObservableMiddleware>;

/** Options that make a request end with an AbortError when `signal` aborts (none without one). */
export function abortable(signal: AbortSignal | undefined): RequestOptions {
  if (signal === undefined) return {};
  const middleware: ObservableMiddleware = {
    pre(request) {
      request.setSignal(signal);
      return new Observable(Promise.resolve(request));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/**
 * A patch sent as `application/merge-patch+json` (RFC 7386): the client's generated `patchNode`
 * would otherwise send the first type the API lists, a JSON Patch. A merge patch can carry
 * `metadata.resourceVersion`, which makes the server refuse it (409) when the node changed since it
 * was read, and a `null` annotation removes it.
 */
export function mergePatch(signal: AbortSignal): RequestOptions {
  return setHeaderOptions('Content-Type', PatchStrategy.MergePatch, abortable(signal));
}

/** A failed API call, named by what it tried to do. */
export class KubernetesRequestFailed extends Error {
  override readonly name = 'KubernetesRequestFailed';
  constructor(
    readonly action: string,
    /** The HTTP status, absent when no answer came (connection refused, DNS, TLS). */
    readonly status: number | undefined,
    readonly reason: string,
  ) {
    super(`${action}: ${status === undefined ? '' : `${status} `}${reason}`);
  }
}

/**
 * Runs one API call; its failure becomes a `KubernetesRequestFailed` naming `action`. An abort is
 * rethrown as it is, so callers can tell an interruption from a failure.
 *
 * @example await request('reading node n1', () => clients.core.readNode({ name: 'n1' }, abortable(signal)))
 */
export async function request<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isAbort(error)) throw error;
    if (error instanceof ApiException) throw new KubernetesRequestFailed(action, error.code, statusMessage(error.body));
    throw new KubernetesRequestFailed(action, undefined, error instanceof Error ? error.message : String(error));
  }
}

export function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/** The `message` of the API's Status object (the client hands error bodies over as text). */
function statusMessage(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  try {
    const status = JSON.parse(text) as { message?: unknown };
    if (typeof status.message === 'string') return status.message;
  } catch {
    // Not a Status object (a proxy's HTML page, say): its text is the reason.
  }
  return text.slice(0, 200);
}
