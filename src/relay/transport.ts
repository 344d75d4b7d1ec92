// The one role every edge plays: a message pipe. The same shape as the MCP SDK's Transport, so an
// SDK transport (the local gate's HTTP server side) and ours (the bridge's lean ones) both fit.
import type { JsonRpcMessage } from './jsonrpc.ts';

export interface Transport {
  start(): Promise<void>;
  send(message: JsonRpcMessage): Promise<void>;
  close(): Promise<void>;
  onmessage?: (message: JsonRpcMessage) => void;
  /** Not necessarily fatal: the transport says what went wrong; `onclose` says it is over. */
  onerror?: (error: Error) => void;
  onclose?: () => void;
}
