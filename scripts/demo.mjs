// `npm run demo`: the product doing its main job in one command. A local Sentrail gate in front of
// the MCP "everything" server with the demo org policy (examples/demo/), the bridge under a real
// MCP client (the SDK's), and calls that are allowed, blocked locally, blocked by the gate, and
// held for approval, each with its decision. A held call stays open while a reviewer decides
// (here the demo itself, with the gate's admin key): one is approved and the agent receives the
// real result; one is denied and the agent is told why.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Chalk } from 'chalk';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'sentrail.js');
const EVERYTHING = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const c = new Chalk({ level: process.stdout.isTTY && !process.env.NO_COLOR ? 1 : 0 });
const tmp = mkdtempSync(path.join(os.tmpdir(), 'sentrail-demo-'));
const randomKey = (prefix) => `${prefix}${Array.from({ length: 40 }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(Math.random() * 36)]).join('')}`;
const apiKey = randomKey('agk_');
const adminKey = randomKey('sak_');
const children = [];

function say(line = '') {
  process.stdout.write(line + '\n');
}

async function startGate() {
  const gate = spawn(process.execPath, [BIN, 'gate', '--policy', path.join(ROOT, 'examples/demo'), '--upstream', `"${process.execPath}" "${EVERYTHING}" stdio`, '--port', '0'], {
    env: { ...process.env, SENTRAIL_GATE_API_KEY: apiKey, SENTRAIL_ADMIN_KEY: adminKey, SENTRAIL_GATE_STATE_DIR: path.join(tmp, 'gate') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(gate);
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`the gate did not start:\n${err}`)), 20_000);
    gate.stderr.on('data', (d) => {
      err += d;
      const m = /listening on (http:\/\/\S+\/mcp-gate\/sse)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    gate.on('exit', (code) => reject(new Error(`the gate exited (${code}):\n${err}`)));
  });
}

async function bridgeClient(gateUrl, agent) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'bridge', '--gate', gateUrl, ...(agent ? ['--agent', agent] : []), '--log-level', 'warn'],
    env: { ...process.env, SENTRAIL_API_KEY: apiKey, SENTRAIL_CACHE_DIR: path.join(tmp, 'cache'), SENTRAIL_STATE_DIR: path.join(tmp, 'state') },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'claude-code', version: 'demo' });
  await client.connect(transport);
  return client;
}

const LABEL = {
  allow: c.green.bold('ALLOWED          '),
  local: c.red.bold('BLOCKED (local)  '),
  gate: c.red.bold('BLOCKED (gate)   '),
  approval: c.yellow.bold('HELD FOR APPROVAL'),
  approved: c.green.bold('APPROVED, RAN    '),
  denied: c.red.bold('DENIED           '),
};

/** The reviewer's side: `sentrail approvals approve|deny ID`, as a person would run it in another terminal. */
function reviewer(gateUrl, decision, reason) {
  return async (id) => {
    await new Promise((r) => setTimeout(r, 1500)); // a person reads the request
    const args = ['approvals', decision === 'approved' ? 'approve' : 'deny', id, '--gate', gateUrl, ...(reason ? ['--reason', reason] : [])];
    await new Promise((resolve, reject) =>
      execFile(process.execPath, [BIN, ...args], { env: { ...process.env, SENTRAIL_ADMIN_KEY: adminKey, NO_COLOR: '1' } }, (err, _out, stderr) => (err ? reject(new Error(`sentrail approvals failed: ${stderr}`)) : resolve())),
    );
    say(`      ${c.dim(`a reviewer ran: sentrail ${args.slice(0, 3).join(' ')}${reason ? ` --reason "${reason}"` : ''}`)}`);
  };
}

/**
 * A call as the agent makes it, with its outcome. `review`: what the reviewer does once the bridge
 * reports the call held (its first progress names the approval).
 */
async function show(client, who, name, args, review) {
  const t0 = performance.now();
  let reviewing = null;
  const onprogress = (p) => {
    const id = /approval (\S+), waited/.exec(p.message ?? '')?.[1];
    if (!id || reviewing) return;
    say(`  ${LABEL.approval}  ${c.bold(name)} ${c.dim(`as ${who}: the call stays open`)}`);
    say(`      ${c.dim(p.message)}`);
    reviewing = review?.(id);
  };
  const result = await client.callTool({ name, arguments: args }, undefined, { onprogress, timeout: 120_000 });
  await reviewing;
  const ms = (performance.now() - t0).toFixed(1);
  const meta = result._meta?.sentrail;
  const first = result.content?.[0];
  // A result without text (gzip-file-as-resource answers with a resource): say what it holds.
  const text = (result.content?.find((x) => x.type === 'text')?.text ?? (first ? `the upstream's result: ${first.type} ${first.name ?? first.uri ?? first.resource?.uri ?? ''}` : '')).split('\n')[0];
  let label = LABEL.allow;
  if (meta?.status === 'blocked') label = meta.source === 'local' ? LABEL.local : LABEL.gate;
  if (meta?.status === 'require_approval') label = LABEL.approval;
  if (meta?.status === 'denied') label = LABEL.denied;
  if (reviewing && !meta) label = LABEL.approved;
  say(`  ${label}  ${c.bold(name)} ${c.dim(`as ${who}, ${ms} ms`)}`);
  say(`      ${c.dim(text.length > 150 ? text.slice(0, 147) + '…' : text)}`);
  if (meta?.status === 'blocked') say(`      ${c.dim(`policy "${meta.policy}" · version ${meta.policyVersion ?? '?'} · decided by the ${meta.source === 'local' ? 'bridge, the call never left the machine' : 'gate'}`)}`);
  return meta;
}

async function main() {
  say(c.bold('Sentrail demo: the bridge and a local gate in front of the MCP "everything" server'));
  say(c.dim(`org policy: examples/demo/org-policy.yaml`));
  const gateUrl = await startGate();
  say(c.dim(`gate:       ${gateUrl}  (sentrail gate, full MCP, API key auth)`));
  say();

  const claude = await bridgeClient(gateUrl);
  const tools = await claude.listTools();
  say(`${c.bold('claude-code')} lists ${tools.tools.length} tools through the bridge ${c.dim('(get-env is hidden: every call of it would be blocked)')}`);
  say();
  await show(claude, 'claude-code', 'echo', { message: 'Hello through Sentrail' });
  await show(claude, 'claude-code', 'get-sum', { a: 40, b: 2 });
  await show(claude, 'claude-code', 'get-env', {});
  await show(claude, 'claude-code', 'gzip-file-as-resource', { name: 'notes.txt.gz', data: 'data:text/plain;base64,SGVsbG8=' }, reviewer(gateUrl, 'approved'));
  await claude.close();

  say();
  const ci = await bridgeClient(gateUrl, 'ci-bot');
  await show(ci, 'ci-bot', 'trigger-long-running-operation', { duration: 1, steps: 1 }, reviewer(gateUrl, 'denied', 'not during the release freeze'));
  await ci.close();

  say();
  const untrusted = await bridgeClient(gateUrl, 'untrusted-bot');
  await show(untrusted, 'untrusted-bot', 'echo', { message: 'let me in' });
  await untrusted.close();
  say();
  say(c.dim('Blocks the bridge is certain of never leave the machine; everything else goes to the gate, which decides again.'));
  say(c.dim('A call held for approval stays open while a reviewer decides: approved, the agent gets the real result.'));
}

main()
  .catch((err) => {
    process.stderr.write(`demo failed: ${err.stack ?? err}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) child.kill('SIGTERM');
    rmSync(tmp, { recursive: true, force: true });
  });
