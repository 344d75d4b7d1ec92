// --json: the events as JSON lines (json-lines.ts); nothing for people, not even on Ctrl-C (the
// outcome line says `cancelled`).
import { errorLine, eventLine } from './json-lines.ts';
import type { ViewRenderer } from './renderer.ts';

export function createJsonView(stream: NodeJS.WritableStream): ViewRenderer {
  return {
    event: (event) => void stream.write(eventLine(event)),
    cancelling() {},
    fail: (error) => void stream.write(errorLine(error)),
    async close() {},
  };
}
