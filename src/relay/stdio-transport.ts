// The client side of the bridge: newline-delimited JSON-RPC on stdin/stdout. Hand-written rather
// than the SDK's StdioServerTransport because it must answer what it cannot parse (-32700 /
// -32600, with the id when one can be read), notice stdin's end, and avoid the SDK's zod schemas
// on the start-up path (~80 ms of imports).
import type { Readable, Writable } from 'node:stream';
import { decodeLine, type JsonRpcMessage } from './jsonrpc.ts';
import { lineTextOf } from './raw-text.ts';
import type { Transport } from './transport.ts';

/** A line longer than this is answered with an error and dropped, never buffered without end. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

export interface StdioTransportOptions {
  maxLineBytes?: number;
}

export class StdioTransport implements Transport {
  onmessage?: (message: JsonRpcMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private discarding = false;
  private closed = false;
  private readonly maxLineBytes: number;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);
  private readonly onEnd = () => void this.close();

  constructor(
    private readonly input: Readable = process.stdin,
    private readonly output: Writable = process.stdout,
    options: StdioTransportOptions = {},
  ) {
    this.maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  }

  async start(): Promise<void> {
    this.input.on('data', this.onData);
    this.input.on('end', this.onEnd);
    this.input.on('close', this.onEnd);
    this.input.on('error', (err) => this.onerror?.(err));
    // A closed stdout (the client went away) must not crash the process: EPIPE ends the session.
    this.output.on('error', (err) => {
      this.onerror?.(err);
      void this.close();
    });
  }

  private receive(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.discarding) {
        this.discarding = false;
        continue;
      }
      this.chunks.push(piece);
      const line = Buffer.concat(this.chunks, this.buffered + piece.length);
      this.chunks = [];
      this.buffered = 0;
      this.handleLine(line);
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0 || this.discarding) return;
    this.buffered += rest.length;
    this.chunks.push(rest);
    if (this.buffered > this.maxLineBytes) {
      this.chunks = [];
      this.buffered = 0;
      this.discarding = true;
      void this.send({ jsonrpc: '2.0', error: { code: -32600, message: `Invalid Request: a message over ${this.maxLineBytes} bytes was dropped` } });
    }
  }

  private handleLine(raw: Buffer): void {
    let text = raw.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim() === '') return;
    for (const item of decodeLine(text)) {
      if (item.ok) this.onmessage?.(item.message);
      else void this.send(item.error);
    }
  }

  send(message: JsonRpcMessage): Promise<void> {
    if (this.closed) return Promise.resolve();
    const line = (lineTextOf(message) ?? JSON.stringify(message)) + '\n';
    return new Promise((resolve) => {
      // Resolve on flush or on drain; a broken pipe is reported through 'error' above.
      if (this.output.write(line)) resolve();
      else this.output.once('drain', resolve);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.input.off('data', this.onData);
    this.input.off('end', this.onEnd);
    this.input.off('close', this.onEnd);
    this.onclose?.();
  }
}
