// JSON-RPC 2.0 as MCP uses it: the message shapes, light structural checks (no schema library on
// the bridge's start-up path), and the error codes the relay answers with.

export type JsonRpcId = string | number;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcSuccess {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result: Record<string, unknown>;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface JsonRpcFailure {
  jsonrpc: '2.0';
  /** Absent only when the request's id could not be read (parse error): MCP's schema allows that. */
  id?: JsonRpcId;
  error: JsonRpcErrorObject;
}

export type JsonRpcResponse = JsonRpcSuccess | JsonRpcFailure;
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** MCP / Sentrail: the gate's "blocked by policy". */
  Blocked: -32001,
  /** MCP's ConnectionClosed; used for "the gate went away before answering". */
  ConnectionClosed: -32000,
} as const;

export const isRequest = (m: JsonRpcMessage): m is JsonRpcRequest => 'method' in m && 'id' in m && m.id !== undefined;
export const isNotification = (m: JsonRpcMessage): m is JsonRpcNotification => 'method' in m && !('id' in m);
export const isResponse = (m: JsonRpcMessage): m is JsonRpcResponse => !('method' in m) && ('result' in m || 'error' in m);
export const isFailure = (m: JsonRpcResponse): m is JsonRpcFailure => 'error' in m;

/** A stable map key for an id: 1 and "1" are different requests. */
export const idKey = (id: JsonRpcId): string => (typeof id === 'number' ? `n:${id}` : `s:${id}`);

export function errorResponse(id: JsonRpcId | undefined, code: number, message: string, data?: unknown): JsonRpcFailure {
  const error: JsonRpcErrorObject = { code, message };
  if (data !== undefined) error.data = data;
  return id === undefined ? { jsonrpc: '2.0', error } : { jsonrpc: '2.0', id, error };
}

export function resultResponse(id: JsonRpcId, result: Record<string, unknown>): JsonRpcSuccess {
  return { jsonrpc: '2.0', id, result };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isId = (v: unknown): v is JsonRpcId => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

export type Classified = { ok: true; message: JsonRpcMessage } | { ok: false; error: JsonRpcFailure };

/**
 * Checks one decoded value is a JSON-RPC 2.0 message. Unknown members pass through untouched: a
 * relay forwards what newer protocol versions add.
 */
export function classify(value: unknown): Classified {
  const invalid = (why: string, id?: JsonRpcId): Classified => ({ ok: false, error: errorResponse(id, ErrorCode.InvalidRequest, `Invalid Request: ${why}`) });
  if (!isObject(value)) return invalid('a message must be a JSON object');
  const id = isId(value.id) ? value.id : undefined;
  if (value.jsonrpc !== '2.0') return invalid('"jsonrpc" must be "2.0"', id);
  if ('method' in value) {
    if (typeof value.method !== 'string') return invalid('"method" must be a string', id);
    if ('params' in value && value.params !== undefined && !isObject(value.params) && !Array.isArray(value.params)) return invalid('"params" must be an object', id);
    if ('id' in value && !isId(value.id)) return invalid('"id" must be a string or a number');
    return { ok: true, message: value as unknown as JsonRpcMessage };
  }
  if ('result' in value || 'error' in value) {
    if (!isId(value.id) && !('error' in value)) return invalid('a response needs the id of its request');
    return { ok: true, message: value as unknown as JsonRpcMessage };
  }
  return invalid('neither a request, a notification nor a response', id);
}

/** Decodes one line of the stdio framing into messages (a batch gives several), or the error to answer. */
export function decodeLine(line: string): Classified[] {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return [{ ok: false, error: errorResponse(undefined, ErrorCode.ParseError, `Parse error: ${(err as Error).message}`) }];
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return [{ ok: false, error: errorResponse(undefined, ErrorCode.InvalidRequest, 'Invalid Request: an empty batch') }];
    return value.map(classify);
  }
  return [classify(value)];
}
