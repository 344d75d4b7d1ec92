// `sentrail doctor [--gate URL] [--json]`: every check between "installed" and "Claude Code shows the
// tools", each ✔ / ! / ✖ with the exact fix for a problem (docs/commands.md lists them). Exit 0
// when nothing fails (warnings allowed), 1 when something does.
import path from 'node:path';
import { resolveGateAddress } from '../bridge/gate-address.ts';
import { createHttpClient } from '../bridge/http-client.ts';
import { readCliConfig } from '../config/cli-config.ts';
import { bridgeEntry } from '../config/mcp-json.ts';
import { findProjectRoot } from '../config/project-root.ts';
import { checkClock, checkGate, checkKeychain, checkNode, checkPolicy, findCredential, type Check, type CheckResult } from './doctor/checks.ts';
import { checkBridgeLaunch, checkMcpJson, checkNpx } from './doctor/project-checks.ts';
import { usageError } from './errors.ts';
import { ExitCode } from './exit-codes.ts';
import { createTerminal } from './terminal.ts';

export interface DoctorOptions {
  gate?: string;
  apiKey?: string;
  json?: boolean;
}

async function timed(run: () => Promise<Check> | Check): Promise<CheckResult> {
  const started = performance.now();
  const check = await run();
  return { ...check, ms: Math.round(performance.now() - started) };
}

export async function runDoctor(opts: DoctorOptions): Promise<number> {
  const started = performance.now();
  const gate = opts.gate ?? (await readCliConfig()).config.defaultGate ?? undefined;
  if (!gate) throw usageError('which gate? pass --gate <gate URL>, or log in once (sentrail login remembers the gate)');
  const address = resolveGateAddress(gate);
  const root = await findProjectRoot();
  const http = await createHttpClient();

  // Independent of each other: in parallel, so the whole run stays short.
  const credentialRun = timed(async () => (credentialFound = await findCredential(gate, opts.apiKey)).check);
  let credentialFound: Awaited<ReturnType<typeof findCredential>> | null = null;
  const [node, npx, mcpJson, credential] = await Promise.all([
    timed(() => checkNode()),
    timed(() => checkNpx(root)),
    (async () => {
      const t0 = performance.now();
      const found = await checkMcpJson(gate);
      return { found, ms: Math.round(performance.now() - t0) };
    })(),
    credentialRun,
  ]);
  const cred = credentialFound!.credential;
  const launchEntry = mcpJson.found.entry && mcpJson.found.check.status === 'pass'
    ? mcpJson.found.entry
    // No usable entry: launch this very CLI's bridge, as the entry init would write does.
    : { ...bridgeEntry({ gate }), command: process.execPath, args: [path.resolve(process.argv[1]!), 'bridge', '--gate', gate] };
  const [keychain, gateFinding, clock, policy, bridge] = await Promise.all([
    timed(() => checkKeychain(cred?.origin ?? null)),
    (async () => {
      const t0 = performance.now();
      const f = await checkGate(http, address, cred);
      return { f, ms: Math.round(performance.now() - t0) };
    })(),
    timed(() => checkClock(http, address, cred)),
    timed(() => checkPolicy(http, gate, address, cred)),
    timed(() => checkBridgeLaunch(launchEntry, root)),
  ]);
  const results: CheckResult[] = [
    node,
    npx,
    keychain,
    credential,
    ...(gateFinding.f.accepted ? [{ ...gateFinding.f.accepted, ms: gateFinding.ms }] : []),
    { ...gateFinding.f.gate, ms: gateFinding.ms },
    clock,
    policy,
    { ...mcpJson.found.check, ms: mcpJson.ms },
    bridge,
  ];
  const failed = results.filter((r) => r.status === 'fail').length;
  const warned = results.filter((r) => r.status === 'warn').length;
  const totalMs = Math.round(performance.now() - started);
  const code = failed > 0 ? ExitCode.FAILURE : ExitCode.OK;
  if (opts.json) {
    process.stdout.write(JSON.stringify({ gate, ok: failed === 0, failed, warnings: warned, ms: totalMs, checks: results }, null, 2) + '\n');
    return code;
  }
  const c = createTerminal(process.stdout).color;
  const mark = { pass: c.green('✔'), warn: c.yellow('!'), fail: c.red('✖'), skip: c.dim('-') };
  const width = Math.max(...results.map((r) => r.title.length));
  const lines = [`sentrail doctor: ${gate}`, ''];
  for (const r of results) {
    lines.push(`${mark[r.status]} ${r.title.padEnd(width)}  ${r.detail}`);
    if (r.fix && (r.status === 'fail' || r.status === 'warn')) lines.push(`  ${' '.repeat(width)}  ${c.bold('fix:')} ${r.fix}`);
  }
  lines.push('', `${failed === 0 ? c.green('No problems') : c.red(`${failed} problem${failed === 1 ? '' : 's'}`)}${warned > 0 ? `, ${warned} warning${warned === 1 ? '' : 's'}` : ''} (${totalMs} ms)`);
  process.stdout.write(lines.join('\n') + '\n');
  return code;
}
