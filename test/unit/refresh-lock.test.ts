// The cross-process refresh lock (src/auth/refresh-lock.ts) with real processes contending for a
// real lock file: no lost update, a dead holder's lock taken over after the TTL (and not before),
// several waiters taking over one stale lock at once, release when the work throws.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { acquireLock, LockTimeoutError, refreshLockFile, withLock } from '../../src/auth/refresh-lock.ts';

const WORKER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/lock-worker.ts');

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'sentrail-lock-'));
}

function worker(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** `n` worker processes each doing `rounds` increments; resolves with the counter's final value. */
async function contend(dir: string, n: number, rounds: number, extra: string[] = []): Promise<number> {
  const lock = path.join(dir, 'locks', 'refresh-test.lock');
  const counter = path.join(dir, 'counter');
  const codes = await Promise.all(Array.from({ length: n }, () => exited(worker([lock, counter, String(rounds), ...extra]))));
  assert.deepEqual(codes, Array(n).fill(0));
  return Number(await readFile(counter, 'utf8'));
}

describe('refresh lock', () => {
  it('five processes incrementing a counter under the lock lose no update (and without it they do)', async () => {
    const dir = await tempDir();
    assert.equal(await contend(dir, 5, 20), 100);
    // The lock file is gone once everyone released it; nothing else is left behind.
    assert.deepEqual(await readdir(path.join(dir, 'locks')), []);
    // The same work without the lock: interleaved read-modify-write loses updates.
    // 200 rounds (about 1 s of work each): with 20, five processes whose start-ups were spread
    // over more than their work (a loaded CI machine) never overlapped, and nothing was lost.
    const unlocked = await contend(await tempDir(), 5, 200, ['--no-lock']);
    assert.ok(unlocked < 1000, `without the lock ${unlocked} of 1000 updates survived: the test could not tell`);
  });

  it("a dead holder's lock is taken over after the TTL, not before", async () => {
    const dir = await tempDir();
    const lock = path.join(dir, 'refresh.lock');
    const holder = worker([lock, path.join(dir, 'counter'), '0', '--hold', '--ttl', '1500']);
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    holder.kill('SIGKILL');
    await exited(holder);
    // Within the TTL the lock stands, though its holder is gone (no pid checks).
    await assert.rejects(acquireLock(lock, { ttlMs: 1500, waitMs: 300 }), LockTimeoutError);
    const started = Date.now();
    const taken = await acquireLock(lock, { ttlMs: 1500 });
    const waited = Date.now() - started;
    assert.ok(waited < 2500, `took over after ${waited} ms`);
    const content = JSON.parse(await readFile(lock, 'utf8')) as { pid: number };
    assert.equal(content.pid, process.pid);
    await taken.release();
    assert.equal(existsSync(lock), false);
  });

  it('five processes finding one stale lock at once: one takes it over at a time, no update lost', async () => {
    const dir = await tempDir();
    const lock = path.join(dir, 'locks', 'refresh-test.lock');
    await acquireLock(lock); // never released: stands in for a holder that died a minute ago
    await writeFile(lock, JSON.stringify({ pid: 1, at: Date.now() - 60_000, nonce: 'dead' }));
    assert.equal(await contend(dir, 5, 10, ['--ttl', '30000']), 50);
    assert.deepEqual(await readdir(path.join(dir, 'locks')), []);
  });

  it('is released when the work throws, and a release never removes a lock that is not its own', async () => {
    const dir = await tempDir();
    const lock = path.join(dir, 'refresh.lock');
    await assert.rejects(
      withLock(lock, async () => {
        throw new Error('the token endpoint broke');
      }),
      /the token endpoint broke/,
    );
    assert.equal(existsSync(lock), false);
    const first = await acquireLock(lock);
    // Someone took it over (as after a TTL): the first holder's release leaves the new lock alone.
    await writeFile(lock, JSON.stringify({ pid: 2, at: Date.now(), nonce: 'other' }));
    await first.release();
    assert.equal(existsSync(lock), true);
  });

  it('has one lock file per gate + resource in the state dir', () => {
    const a = refreshLockFile('http://127.0.0.1:1/mcp-gate/sse', 'http://127.0.0.1:1/mcp-gate', '/state');
    const b = refreshLockFile('http://127.0.0.1:2/mcp-gate/sse', 'http://127.0.0.1:2/mcp-gate', '/state');
    assert.equal(path.dirname(a), path.join('/state', 'locks'));
    assert.match(path.basename(a), /^refresh-127\.0\.0\.1-1-[0-9a-f]{12}\.lock$/);
    assert.notEqual(a, b);
  });
});
