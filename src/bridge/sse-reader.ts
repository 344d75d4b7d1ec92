// Reads a text/event-stream body into events (eventsource-parser does the framing).
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface SseEvent {
  event: string | undefined;
  data: string;
  id: string | undefined;
}

/**
 * Calls `onEvent` for each event until the stream ends. Resolves on a clean end, rejects when the
 * connection breaks (the caller tells those apart: both end the stream).
 */
export async function readSse(body: ReadableStream<Uint8Array>, onEvent: (e: SseEvent) => void, signal?: AbortSignal): Promise<void> {
  const parser = createParser({
    onEvent: (m: EventSourceMessage) => onEvent({ event: m.event, data: m.data, id: m.id }),
  });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const abort = () => void reader.cancel().catch(() => {});
  signal?.addEventListener('abort', abort, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}
