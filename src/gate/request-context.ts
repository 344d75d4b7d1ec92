// What the HTTP layer knows about a JSON-RPC request that the message itself does not carry: the
// agent named by the X-Agent-Id header of the POST it came in. Kept beside the message (a WeakMap
// keyed by the message object the relay hands to interceptors), so the relay stays unaware of HTTP.

export interface RequestContext {
  /** The X-Agent-Id header, or `unknown` (policy.md: a request without an agent). */
  agent: string;
}

type Headers = Record<string, string | string[] | undefined> | undefined;

export const UNKNOWN_AGENT = 'unknown';

export function agentFromHeaders(headers: Headers): string {
  const raw = headers?.['x-agent-id'];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  return value ? value : UNKNOWN_AGENT;
}

export class RequestContexts {
  private readonly contexts = new WeakMap<object, RequestContext>();

  set(message: object, context: RequestContext): void {
    this.contexts.set(message, context);
  }

  get(message: object): RequestContext {
    return this.contexts.get(message) ?? { agent: UNKNOWN_AGENT };
  }
}
