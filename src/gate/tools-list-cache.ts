// tools/list answers kept for a while (the hosted gate: 60 s per workspace), as an interceptor: a
// fresh answer is returned without asking the upstream; the upstream's
// notifications/tools/list_changed empties it. Keyed by the request's params (a cursor is a
// different page), `_meta` aside.
import { isFailure, type JsonRpcResponse, type JsonRpcSuccess } from '../relay/jsonrpc.ts';
import type { Interceptor } from '../relay/relay.ts';

export const TOOLS_LIST_TTL_MS = 60_000;
const MAX_PAGES = 32;

export interface ToolsListCache extends Interceptor {
  invalidate(): void;
}

export function createToolsListCache(opts: { ttlMs?: number; now?: () => number } = {}): ToolsListCache {
  const ttl = opts.ttlMs ?? TOOLS_LIST_TTL_MS;
  const now = opts.now ?? Date.now;
  const pages = new Map<string, { result: JsonRpcSuccess['result']; at: number }>();
  // A list_changed between a request and its answer makes that answer stale before it is stored.
  let generation = 0;
  const inFlight = new WeakMap<object, number>();

  const keyOf = (params: Record<string, unknown> | undefined): string => {
    const { _meta: _ignored, ...rest } = params ?? {};
    return JSON.stringify(rest);
  };

  return {
    request(req) {
      if (req.method !== 'tools/list') return undefined;
      const hit = pages.get(keyOf(req.params));
      if (hit && now() - hit.at < ttl) return { jsonrpc: '2.0', id: req.id, result: hit.result };
      inFlight.set(req, generation);
      return undefined;
    },
    response(req, res): JsonRpcResponse {
      if (req.method !== 'tools/list' || isFailure(res) || inFlight.get(req) !== generation) return res;
      if (pages.size >= MAX_PAGES) pages.clear();
      pages.set(keyOf(req.params), { result: res.result, at: now() });
      return res;
    },
    invalidate() {
      generation++;
      pages.clear();
    },
  };
}
