// The MCP Inspector's CLI mode (a real, independent MCP client; pinned 0.15.0, the last on Node 20)
// lists and calls tools through the built bridge.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { assertBuilt, BIN, ROOT } from '../helpers/cli.ts';
import { startEverything, type Upstream } from '../helpers/mcp.ts';

const run = promisify(execFile);
const INSPECTOR = path.join(ROOT, 'node_modules/@modelcontextprotocol/inspector/cli/build/cli.js');

let upstream: Upstream;
let gateUrl = '';
let env: NodeJS.ProcessEnv = {};

before(async () => {
  assertBuilt();
  upstream = await startEverything();
  gateUrl = upstream.mcpUrl;
  env = {
    ...process.env,
    SENTRAIL_API_KEY: 'agk_' + 'i'.repeat(40),
    SENTRAIL_STATE_DIR: await mkdtemp(path.join(os.tmpdir(), 'sentrail-state-')),
    SENTRAIL_CACHE_DIR: await mkdtemp(path.join(os.tmpdir(), 'sentrail-cache-')),
  };
});

after(() => upstream?.close());

const inspector = async (...args: string[]) => {
  const { stdout } = await run(process.execPath, [INSPECTOR, '--cli', process.execPath, BIN, 'bridge', '--gate', gateUrl, ...args], { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout);
};

describe('MCP Inspector CLI through the bridge', () => {
  it('lists the tools', async () => {
    const out = await inspector('--method', 'tools/list');
    const names = out.tools.map((t: { name: string }) => t.name);
    assert.ok(names.includes('echo') && names.includes('get-sum'), names.join(','));
  });
  it('calls a tool', async () => {
    const out = await inspector('--method', 'tools/call', '--tool-name', 'get-sum', '--tool-arg', 'a=20', '--tool-arg', 'b=22');
    assert.deepEqual(out.content, [{ type: 'text', text: 'The sum of 20 and 22 is 42.' }]);
  });
});
