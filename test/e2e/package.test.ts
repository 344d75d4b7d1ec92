// The package as users get it: `npm pack`, then `npx` of that tarball with an empty npm cache runs
// `sentrail --version` and a bridge session (what `.mcp.json`'s `npx -y sentrail bridge` does).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ROOT } from '../helpers/cli.ts';
import { startEverything, type Upstream } from '../helpers/mcp.ts';

const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';

let tarball = '';
let cache = '';
let upstream: Upstream;
let upstreamUrl = '';

before(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sentrail-pack-'));
  const { stdout } = await run(NPM, ['pack', '--pack-destination', dir, '--silent'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  tarball = path.join(dir, stdout.trim().split('\n').pop()!);
  cache = await mkdtemp(path.join(os.tmpdir(), 'sentrail-npm-cache-'));
  upstream = await startEverything();
  upstreamUrl = upstream.mcpUrl;
});

after(() => upstream?.close());

describe('the npm package', () => {
  it('bin points at a JavaScript file that node runs, and the only runtime dependency is the keychain addon', async () => {
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.bin.sentrail, 'bin/sentrail.js');
    assert.match(await readFile(path.join(ROOT, pkg.bin.sentrail), 'utf8'), /^#!\/usr\/bin\/env node\n/);
    assert.deepEqual(Object.keys(pkg.dependencies ?? {}), ['@napi-rs/keyring'], 'everything else is bundled into dist/; a native addon cannot be');
  });

  it('npx of the tarball with an empty npm cache runs sentrail --version', async () => {
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));
    const { stdout } = await run(NPX, ['--yes', '--cache', cache, '--package', tarball, 'sentrail', '--version'], { cwd: os.tmpdir(), env: { ...process.env, npm_config_update_notifier: 'false' } });
    assert.equal(stdout.trim(), pkg.version);
  });

  it('npx of the tarball runs a bridge session for a real MCP client', async () => {
    const transport = new StdioClientTransport({
      command: NPX,
      args: ['--yes', '--cache', cache, '--package', tarball, 'sentrail', 'bridge', '--gate', upstreamUrl],
      cwd: os.tmpdir(),
      env: {
        ...(process.env as Record<string, string>),
        SENTRAIL_API_KEY: 'agk_' + 'p'.repeat(40),
        SENTRAIL_STATE_DIR: await mkdtemp(path.join(os.tmpdir(), 'sentrail-state-')),
        SENTRAIL_CACHE_DIR: await mkdtemp(path.join(os.tmpdir(), 'sentrail-cache-')),
        npm_config_update_notifier: 'false',
      },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'package-test', version: '1' });
    await client.connect(transport);
    try {
      const tools = await client.listTools();
      assert.ok(tools.tools.some((t) => t.name === 'echo'));
      const result = await client.callTool({ name: 'echo', arguments: { message: 'from npx' } });
      assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: from npx' }]);
    } finally {
      await client.close();
    }
  });
});
