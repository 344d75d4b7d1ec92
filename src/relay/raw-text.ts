// The exact JSON text a message arrived as, kept beside the parsed message so a relay can forward
// what it did not change without serializing it again (a 1 MB result costs ~2 ms to stringify and
// as much to encode). A message an interceptor rebuilt is a new object, with no text: it is
// serialized as usual.
import type { JsonRpcMessage } from './jsonrpc.ts';

const texts = new WeakMap<object, string>();

export function rememberText(message: JsonRpcMessage, text: string): void {
  texts.set(message, text);
}

/** The original text when it can stand as one line of the stdio framing as is. */
export function lineTextOf(message: JsonRpcMessage): string | undefined {
  const text = texts.get(message);
  if (text === undefined) return undefined;
  // The stdio framing is one message per line: a raw newline or carriage return (JSON whitespace
  // outside strings) cannot be forwarded verbatim.
  if (text.includes('\n') || text.includes('\r')) return undefined;
  return text;
}
