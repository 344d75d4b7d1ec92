// The approvals benchmark: how soon a reviewer's decision reaches the agent through the bridge,
// and what the bridge costs while calls wait. Real processes: the SDK Client → the built bridge →
// the built local gate (echo requires approval) → server-everything. Method and results:
// bench/README.md, "Approvals".
//
//   npm run bench:approvals                       # build, then print the tables (progress on stderr)
//   options: --approvals=50  --batch=10  --decide-within=8 (s: each decision comes at a random
//            moment up to this long after the call is held)  --waiting=100  --window=30 (s)  --seed=1
//            --steady-after=60 (s: when the last window starts, counted from the calls being held)
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { backoffMs } from '../src/bridge/approval-schedule.ts';
import { approvalPolicyYaml, connectDirect, decideApproval, EVERYTHING_STDIO, startGate, stopAllGates } from '../test/helpers/gate.ts';
import { bridgeClient, heldForApproval, sleep, tempDir, type BridgeClient } from '../test/helpers/mcp.ts';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => Number(argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const APPROVALS = option('approvals', 50);
const BATCH = option('batch', 10);
const DECIDE_WITHIN_MS = option('decide-within', 8) * 1000;
const WAITING = option('waiting', 100);
const WINDOW_MS = option('window', 30) * 1000;
const STEADY_AFTER_MS = option('steady-after', 60) * 1000;
let seed = option('seed', 1);

const log = (m: string) => void process.stderr.write(`[bench] ${m}\n`);
/** A seeded uniform [0, 1): the same decision moments on every run. */
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

const POLICY = approvalPolicyYaml(['echo']);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  // after "pid (comm) ": state is field 0, utime 11, stime 12 (man 5 proc, fields 14 and 15)
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
}
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function main(): Promise<void> {
  const dir = await tempDir('sentrail-approvals-bench-');
  const policy = path.join(dir, 'org.yaml');
  await writeFile(policy, POLICY);
  const gate = await startGate(['--policy', policy, '--upstream', EVERYTHING_STDIO]);
  const direct = await connectDirect();
  const bridge: BridgeClient = await bridgeClient({ gate: gate.url, apiKey: gate.apiKey, logLevel: 'warn', extraArgs: ['--approval-wait', '1800'] });
  const started = Date.now();
  try {
    // ── Decision → result ─────────────────────────────────────────────────────────────────────
    const latencies: number[] = [];
    for (let done = 0; done < APPROVALS; ) {
      const n = Math.min(BATCH, APPROVALS - done);
      await Promise.all(
        Array.from({ length: n }, async (_, k) => {
          const message = `approval ${done + k}`;
          const held = await heldForApproval(bridge.client, 'echo', { message }, { timeoutMs: 30 * 60_000 });
          const answered = held.result.then((result) => ({ at: performance.now(), result }));
          await sleep(random() * DECIDE_WITHIN_MS);
          const decided = performance.now();
          await decideApproval(gate, held.id, 'approved');
          const { at, result } = await answered;
          if (!isDeepStrictEqual(result, await direct.callTool({ name: 'echo', arguments: { message } }))) throw new Error(`approval ${held.id}: the result differs from the upstream's own: ${JSON.stringify(result)}`);
          latencies.push(at - decided);
        }),
      );
      done += n;
      log(`${done}/${APPROVALS} approvals`);
    }

    // ── Idle cost while calls wait ─────────────────────────────────────────────────────────────
    const pid = bridge.pid;
    const measure = async (what: string) => {
      const cpu0 = cpuSeconds(pid);
      const progress0 = bridge.notifications('notifications/progress').length;
      const t0 = Date.now();
      await sleep(WINDOW_MS);
      const seconds = (Date.now() - t0) / 1000;
      const row = { what, cpuPercent: ((cpuSeconds(pid) - cpu0) / seconds) * 100, rss: rssMb(pid), progressPerS: (bridge.notifications('notifications/progress').length - progress0) / seconds };
      log(`${what}: ${row.cpuPercent.toFixed(2)} % CPU, ${row.rss.toFixed(1)} MB, ${row.progressPerS.toFixed(1)} progress/s`);
      return row;
    };
    const idle = [await measure('nothing waiting')];
    const heldAt = Date.now();
    const waiting = await Promise.all(Array.from({ length: WAITING }, (_, i) => heldForApproval(bridge.client, 'echo', { message: `waiting ${i}` }, { timeoutMs: 30 * 60_000 })));
    log(`${WAITING} calls held in ${Date.now() - heldAt} ms`);
    idle.push(await measure(`${WAITING} calls waiting, their first ${WINDOW_MS / 1000} s (each polled 1 s → ${backoffMs(WINDOW_MS) / 1000} s apart)`));
    await sleep(Math.max(0, heldAt + STEADY_AFTER_MS - Date.now()));
    idle.push(await measure(`${WAITING} calls waiting, from ${STEADY_AFTER_MS / 1000} s on (each polled every ${backoffMs(STEADY_AFTER_MS) / 1000} s)`));
    await Promise.all(waiting.map((h) => decideApproval(gate, h.id, 'denied', 'benchmark over')));
    await Promise.all(waiting.map((h) => h.result));

    // ── Tables ─────────────────────────────────────────────────────────────────────────────────
    const cpus = os.cpus();
    const lines = [
      `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus[0]?.model.trim() ?? '?'}, nproc ${cpus.length}, Linux ${os.release()}; Node ${process.version}. Command: \`npm run bench:approvals\` (${APPROVALS} approvals in batches of ${BATCH}, each decided at a seeded random moment up to ${DECIDE_WITHIN_MS / 1000} s after the call was held; ${WAITING} waiting calls, ${WINDOW_MS / 1000} s windows); the run took ${Math.round((Date.now() - started) / 1000)} s. Load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}.`,
      '',
      '| decision → result at the client | ms |',
      '|---|---:|',
      `| p50 | ${percentile(latencies, 50).toFixed(0)} |`,
      `| p99 | ${percentile(latencies, 99).toFixed(0)} |`,
      `| max | ${Math.max(...latencies).toFixed(0)} |`,
      `| min | ${Math.min(...latencies).toFixed(0)} |`,
      '',
      '| the bridge, while | CPU, % of one core | RSS, MB | progress notifications/s |',
      '|---|---:|---:|---:|',
      ...idle.map((r) => `| ${r.what} | ${r.cpuPercent.toFixed(2)} | ${r.rss.toFixed(1)} | ${r.progressPerS.toFixed(1)} |`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await bridge.close();
    await direct.close();
    await stopAllGates();
  }
}

main().catch((err) => {
  process.stderr.write(`approvals bench failed: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
