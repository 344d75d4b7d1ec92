// A fetch for the upstream Streamable HTTP client that says when a POST's SSE response ends. The
// SDK's StreamableHTTPClientTransport resolves send() once the headers arrive; when the stream then
// breaks or ends without the answer, it reports an error with no request id and (no resumption
// here) never answers (research notes §2, "Server dies"). Knowing which request ids rode the
// stream lets the upstream adapter fail exactly those, so every client request gets a response.
import type { JsonRpcId } from '../relay/jsonrpc.ts';

type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** Request ids in a POST body (one message or a batch); [] when it holds none or is not JSON. */
function requestIdsIn(body: RequestInit['body']): JsonRpcId[] {
  if (typeof body !== 'string') return [];
  try {
    const parsed: unknown = JSON.parse(body);
    const messages = Array.isArray(parsed) ? parsed : [parsed];
    return messages
      .filter((m): m is { id: JsonRpcId; method: string } => m !== null && typeof m === 'object' && 'method' in m && (typeof m.id === 'string' || typeof m.id === 'number'))
      .map((m) => m.id);
  } catch {
    return [];
  }
}

export function watchResponseStreams(onStreamEnded: (requestIds: JsonRpcId[]) => void, base: FetchLike = fetch): FetchLike {
  return async (url, init) => {
    const res = await base(url, init);
    const ids = init?.method === 'POST' ? requestIdsIn(init.body) : [];
    if (ids.length === 0 || !res.body || !(res.headers.get('content-type') ?? '').includes('text/event-stream')) return res;
    const reader = res.body.getReader();
    let reported = false;
    const report = () => {
      if (reported) return;
      reported = true;
      onStreamEnded(ids);
    };
    const watched = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            controller.close();
            report();
          } else {
            controller.enqueue(value);
          }
        } catch (err) {
          report();
          controller.error(err);
        }
      },
      cancel(reason) {
        report();
        return reader.cancel(reason);
      },
    });
    return new Response(watched, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}
