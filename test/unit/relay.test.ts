// The relay core and the stdio framing, with in-memory pipes (pure logic; the real processes are
// in test/e2e).
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { JsonRpcMessage } from '../../src/relay/jsonrpc.ts';
import { decodeLine } from '../../src/relay/jsonrpc.ts';
import { Relay, UpstreamError, type UpstreamTransport } from '../../src/relay/relay.ts';
import { StdioTransport } from '../../src/relay/stdio-transport.ts';
import { rememberText } from '../../src/relay/raw-text.ts';
import type { Transport } from '../../src/relay/transport.ts';

class MemoryTransport implements UpstreamTransport {
  sent: JsonRpcMessage[] = [];
  onmessage?: (m: JsonRpcMessage) => void;
  onrequestfailed?: (id: string | number, e: Error) => void;
  failSend: Error | null = null;
  async start() {}
  async send(m: JsonRpcMessage) {
    if (this.failSend) throw this.failSend;
    this.sent.push(m);
  }
  async close() {}
  deliver(m: JsonRpcMessage) {
    this.onmessage?.(m);
  }
}

const tick = () => new Promise((r) => setImmediate(r));

function setup(interceptors: ConstructorParameters<typeof Relay>[0]['interceptors'] = []) {
  const client = new MemoryTransport();
  const upstream = new MemoryTransport();
  const relay = new Relay({ client: client as Transport, upstream, interceptors });
  return { client, upstream, relay };
}

describe('decodeLine', () => {
  it('parse errors carry no id (MCP allows that; the id could not be read)', () => {
    const [r] = decodeLine('{"jsonrpc":"2.0","id":1,"method":');
    assert.equal(r!.ok, false);
    assert.equal(!r!.ok && r!.error.error.code, -32700);
    assert.equal(!r!.ok && 'id' in r!.error, false);
  });
  it('invalid requests keep their id when it can be read', () => {
    const [r] = decodeLine('{"jsonrpc":"1.0","id":"abc","method":"x"}');
    assert.deepEqual(!r!.ok && [r!.error.id, r!.error.error.code], ['abc', -32600]);
  });
  it('id 0 and string ids are ids; unknown members pass through', () => {
    const [a] = decodeLine('{"jsonrpc":"2.0","id":0,"method":"ping","x-new":1}');
    assert.deepEqual(a!.ok && a!.message, { jsonrpc: '2.0', id: 0, method: 'ping', 'x-new': 1 });
  });
  it('a batch is split into its messages', () => {
    const r = decodeLine('[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"n"},3]');
    assert.deepEqual(r.map((x) => x.ok), [true, true, false]);
  });
});

describe('StdioTransport', () => {
  const make = (max?: number) => {
    const input = new PassThrough();
    const output = new PassThrough();
    const t = new StdioTransport(input, output, max ? { maxLineBytes: max } : {});
    const got: JsonRpcMessage[] = [];
    t.onmessage = (m) => got.push(m);
    const lines: string[] = [];
    output.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    return { input, output, t, got, lines };
  };
  it('frames by newline across chunk boundaries, with \\r\\n too', async () => {
    const { input, t, got } = make();
    await t.start();
    input.write('{"jsonrpc":"2.0","id":0,"met');
    input.write('hod":"ping"}\r\n{"jsonrpc":"2.0","id":"s","method":"x"}\n');
    await tick();
    assert.deepEqual(got.map((m) => (m as { id: unknown }).id), [0, 's']);
  });
  it('answers a malformed line with -32700 and goes on', async () => {
    const { input, t, got, lines } = make();
    await t.start();
    input.write('not json\n{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
    await tick();
    assert.equal(got.length, 1);
    assert.equal(JSON.parse(lines[0]!).error.code, -32700);
  });
  it('drops a line over the limit with an error, and recovers at the next line', async () => {
    const { input, t, got, lines } = make(100);
    await t.start();
    input.write('{"jsonrpc":"2.0","id":1,"method":"x","params":{"pad":"' + 'a'.repeat(200));
    input.write('"}}\n{"jsonrpc":"2.0","id":2,"method":"ping"}\n');
    await tick();
    assert.deepEqual(got.map((m) => (m as { id: unknown }).id), [2]);
    assert.equal(JSON.parse(lines[0]!).error.code, -32600);
  });
  it('forwards a message it did not change as its original text; a rebuilt or multi-line one is serialized', async () => {
    const { output, t } = make();
    const lines: string[] = [];
    output.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    await t.start();
    const raw = '{"id":1, "result":{"b":2,"a":"\\u00e9"},"jsonrpc":"2.0"}';
    const m = JSON.parse(raw);
    rememberText(m, raw);
    await t.send(m);
    await t.send({ ...m }); // a new object: no original text
    const multi = JSON.parse('{"jsonrpc":"2.0",\n"id":2,"result":{}}');
    rememberText(multi, '{"jsonrpc":"2.0",\n"id":2,"result":{}}');
    await t.send(multi);
    assert.equal(lines[0], raw);
    assert.equal(lines[1], JSON.stringify(m));
    assert.equal(lines[2], '{"jsonrpc":"2.0","id":2,"result":{}}');
  });
  it('closes on end of input', async () => {
    const { input, t } = make();
    let closed = false;
    t.onclose = () => (closed = true);
    await t.start();
    input.end();
    await tick();
    assert.equal(closed, true);
  });
});

describe('Relay', () => {
  it('forwards requests unchanged and routes each response to its own request', async () => {
    const { client, upstream, relay } = setup();
    await relay.fromClient({ jsonrpc: '2.0', id: 0, method: 'a' });
    await relay.fromClient({ jsonrpc: '2.0', id: '0', method: 'b' });
    assert.deepEqual(upstream.sent.map((m) => (m as { id: unknown }).id), [0, '0']);
    upstream.deliver({ jsonrpc: '2.0', id: '0', result: { which: 'b' } });
    upstream.deliver({ jsonrpc: '2.0', id: 0, result: { which: 'a' } });
    await tick();
    assert.deepEqual(client.sent, [
      { jsonrpc: '2.0', id: '0', result: { which: 'b' } },
      { jsonrpc: '2.0', id: 0, result: { which: 'a' } },
    ]);
    assert.equal(relay.inFlight, 0);
  });
  it('passes server-initiated requests and notifications to the client, and the answers back', async () => {
    const { client, upstream, relay } = setup();
    upstream.deliver({ jsonrpc: '2.0', id: 7, method: 'sampling/createMessage', params: {} });
    upstream.deliver({ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1 } });
    await tick();
    assert.equal(client.sent.length, 2);
    await relay.fromClient({ jsonrpc: '2.0', id: 7, result: { role: 'assistant' } });
    assert.deepEqual(upstream.sent, [{ jsonrpc: '2.0', id: 7, result: { role: 'assistant' } }]);
  });
  it('an interceptor can answer a request, which then never goes upstream', async () => {
    const { client, upstream, relay } = setup([{ request: (r) => (r.method === 'tools/call' ? { jsonrpc: '2.0', id: r.id, result: { blocked: true } } : undefined) }]);
    await relay.fromClient({ jsonrpc: '2.0', id: 1, method: 'tools/call' });
    assert.deepEqual(upstream.sent, []);
    assert.deepEqual(client.sent, [{ jsonrpc: '2.0', id: 1, result: { blocked: true } }]);
  });
  it('a failed send is answered (shaped by an interceptor when it wants)', async () => {
    const { client, upstream, relay } = setup([{ failure: (r, e) => (r.method === 'tools/call' ? { jsonrpc: '2.0', id: r.id, result: { isError: true, why: e.kind } } : undefined) }]);
    upstream.failSend = new UpstreamError('down', -32000, undefined, 'unreachable');
    await relay.fromClient({ jsonrpc: '2.0', id: 1, method: 'tools/call' });
    await relay.fromClient({ jsonrpc: '2.0', id: 2, method: 'resources/list' });
    assert.deepEqual(client.sent, [
      { jsonrpc: '2.0', id: 1, result: { isError: true, why: 'unreachable' } },
      { jsonrpc: '2.0', id: 2, error: { code: -32000, message: 'down' } },
    ]);
  });
  it('failForwarded answers everything in flight exactly once', async () => {
    const { client, upstream, relay } = setup();
    for (let i = 0; i < 5; i++) await relay.fromClient({ jsonrpc: '2.0', id: i, method: 'x' });
    assert.equal(relay.failForwarded(new UpstreamError('gone', -32000, undefined, 'unreachable')), 5);
    upstream.deliver({ jsonrpc: '2.0', id: 3, result: {} }); // a late answer is dropped
    upstream.onrequestfailed?.(4, new Error('late'));
    await tick();
    assert.equal(client.sent.length, 5);
    assert.ok(client.sent.every((m) => 'error' in m));
  });
  it('refuses a second request with an id still in flight', async () => {
    const { client, relay } = setup();
    await relay.fromClient({ jsonrpc: '2.0', id: 1, method: 'x' });
    await relay.fromClient({ jsonrpc: '2.0', id: 1, method: 'y' });
    assert.equal((client.sent[0] as { error: { code: number } }).error.code, -32600);
  });
  it('a response interceptor can rewrite the answer', async () => {
    const { client, upstream, relay } = setup([{ response: (_req, res) => ('error' in res ? { jsonrpc: '2.0', id: res.id!, result: { converted: res.error.code } } : res) }]);
    await relay.fromClient({ jsonrpc: '2.0', id: 'a', method: 'tools/call' });
    upstream.deliver({ jsonrpc: '2.0', id: 'a', error: { code: -32001, message: 'Blocked' } });
    await tick();
    assert.deepEqual(client.sent, [{ jsonrpc: '2.0', id: 'a', result: { converted: -32001 } }]);
  });
});

describe('Relay: request deadlines and cancellation', () => {
  const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));
  function timed(ms: number, extra: Partial<ConstructorParameters<typeof Relay>[0]> = {}) {
    const client = new MemoryTransport();
    const upstream = new MemoryTransport() as MemoryTransport & { abandoned: unknown[]; abandon(id: unknown): void };
    upstream.abandoned = [];
    upstream.abandon = (id) => upstream.abandoned.push(id);
    const relay = new Relay({ client: client as Transport, upstream, requestTimeoutMs: () => ms, forgetCancelled: true, ...extra });
    return { client, upstream, relay };
  }
  const cancels = (m: MemoryTransport) => m.sent.filter((x) => 'method' in x && x.method === 'notifications/cancelled');

  it('a request the upstream sits on is answered as a timeout, cancelled upstream, and abandoned', async () => {
    const { client, upstream, relay } = timed(40);
    await relay.fromClient({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'x' } });
    await sleepMs(80);
    assert.equal(client.sent.length, 1);
    assert.match((client.sent[0] as { error: { message: string } }).error.message, /no answer within 40 ms/);
    assert.deepEqual(cancels(upstream).map((c) => (c as unknown as { params: { requestId: unknown } }).params.requestId), [9]);
    assert.deepEqual(upstream.abandoned, [9]);
    upstream.deliver({ jsonrpc: '2.0', id: 9, result: {} }); // too late: dropped
    await tick();
    assert.equal(client.sent.length, 1);
    assert.equal(relay.inFlight, 0);
  });
  it('an answer in time clears the deadline; null or 0 means no bound', async () => {
    const { client, upstream, relay } = timed(40);
    await relay.fromClient({ jsonrpc: '2.0', id: 1, method: 'ping' });
    upstream.deliver({ jsonrpc: '2.0', id: 1, result: {} });
    await sleepMs(80);
    assert.deepEqual(client.sent, [{ jsonrpc: '2.0', id: 1, result: {} }]);
    assert.deepEqual(cancels(upstream), []);
    const unbounded = timed(0);
    await unbounded.relay.fromClient({ jsonrpc: '2.0', id: 2, method: 'tools/call' });
    await sleepMs(60);
    assert.deepEqual(unbounded.client.sent, []);
  });
  it('progress for the request restarts its deadline', async () => {
    const { client, upstream, relay } = timed(60);
    await relay.fromClient({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x', _meta: { progressToken: 'p1' } } });
    for (let i = 0; i < 4; i++) {
      await sleepMs(35);
      upstream.deliver({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'p1', progress: i } });
    }
    await tick();
    assert.equal(client.sent.filter((m) => 'id' in m).length, 0, 'timed out although progress kept coming');
    await sleepMs(100);
    assert.ok(client.sent.some((m) => 'error' in m && (m as { id: unknown }).id === 1), 'no timeout once progress stopped');
  });
  it('while the client owes the upstream an answer (elicitation), deadlines hold; they restart once it answers', async () => {
    const { client, upstream, relay } = timed(40);
    await relay.fromClient({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } });
    upstream.deliver({ jsonrpc: '2.0', id: 'e1', method: 'elicitation/create', params: {} });
    await sleepMs(100);
    assert.equal(client.sent.filter((m) => 'error' in m).length, 0, 'timed out while a person was answering');
    await relay.fromClient({ jsonrpc: '2.0', id: 'e1', result: { action: 'accept' } });
    await sleepMs(80);
    assert.equal(client.sent.filter((m) => 'error' in m).length, 1);
  });
  it('forgetCancelled: a cancelled request is never answered, its deadline is cleared, the cancel goes upstream and the exchange is abandoned', async () => {
    const { client, upstream, relay } = timed(40);
    await relay.fromClient({ jsonrpc: '2.0', id: 'c', method: 'tools/call', params: { name: 'x' } });
    await relay.fromClient({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'c', reason: 'Esc' } });
    await sleepMs(80);
    assert.deepEqual(client.sent, []);
    assert.equal(cancels(upstream).length, 1);
    assert.deepEqual(upstream.abandoned, ['c']);
    upstream.deliver({ jsonrpc: '2.0', id: 'c', result: {} });
    await tick();
    assert.deepEqual(client.sent, []);
    assert.equal(relay.inFlight, 0);
  });
  it('without forgetCancelled (the gate), a cancel is relayed and the request stays pending', async () => {
    const { client, upstream, relay } = setup();
    await relay.fromClient({ jsonrpc: '2.0', id: 'c', method: 'tools/call' });
    await relay.fromClient({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'c' } });
    assert.equal(relay.inFlight, 1);
    upstream.deliver({ jsonrpc: '2.0', id: 'c', result: {} });
    await tick();
    assert.equal(client.sent.length, 1);
  });
});
