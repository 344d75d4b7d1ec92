// Reads a text/event-stream body into events (eventsource-parser does the framing).
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface SseEvent {
  event: string | undefined;
  data: string;
  id: string | undefined;
}

/**
 * Calls `onEvent` for each event until the body ends. Resolves on a clean end, rejects when the
 * connection breaks (the caller tells those apart: both end the stream).
 */
export async function readSse(body: AsyncIterable<Uint8Array>, onEvent: (e: SseEvent) => void): Promise<void> {
  const parser = createParser({
    onEvent: (m: EventSourceMessage) => onEvent({ event: m.event, data: m.data, id: m.id }),
  });
  const decoder = new TextDecoder();
  for await (const chunk of body) parser.feed(decoder.decode(chunk, { stream: true }));
}
