// `sentrail policy fmt` and `sentrail policy diff`, run as a user would: the built binary, real
// files (and, for diff's `gate:` / `cache:` sides, the real local gate).
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { assertBuilt, assertNoStackTrace, runCli, tempFiles } from '../helpers/cli.ts';

before(assertBuilt);

const UNFORMATTED = `# the org policy
policies:
  - priority: 100
    name: No deleting anything
    mode: block
    tool: mcp
    actionPattern: '*'
    toolNamePattern: delete_*
  - name: Allow Claude Code to create issues   # the only allow
    tool: mcp
    actionPattern: "*"
    toolName: create_issue
    conditions: { allowedAgents: [claude-code] }
    mode: allow
    priority: 10
version: "v1"
`;
const FORMATTED = `# the org policy
version: v1
policies:
  - name: Allow Claude Code to create issues # the only allow
    tool: mcp
    actionPattern: "*"
    toolName: create_issue
    conditions:
      allowedAgents: [claude-code]
    mode: allow
    priority: 10
  - name: No deleting anything
    tool: mcp
    actionPattern: "*"
    toolNamePattern: delete_*
    mode: block
    priority: 100
`;
const TESTS = `cases:
  - name: deletes are blocked
    request: { action: delete_repo }
    expect: { mode: block }
`;

describe('sentrail policy fmt', () => {
  it('rewrites a file in place (atomically: no temp file left, mode kept) and prints what it formatted', async () => {
    const dir = await tempFiles({ 'org.yaml': UNFORMATTED });
    const file = path.join(dir, 'org.yaml');
    const r = await runCli(['policy', 'fmt', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `formatted ${file}\n`);
    assert.equal(await readFile(file, 'utf8'), FORMATTED);
    assert.deepEqual(await readdir(dir), ['org.yaml']);
    const again = await runCli(['policy', 'fmt', file]);
    assert.equal(again.code, 0);
    assert.equal(again.stdout, '', 'a formatted file is not rewritten');
  });

  it('--check writes nothing, lists the files that would change (stdout, one per line), exit 1; then 0 once formatted', async () => {
    const dir = await tempFiles({ 'a.yaml': UNFORMATTED, 'b.yaml': FORMATTED, 'org.test.yaml': TESTS, 'c.json': '{"policies":[],"version":"x"}' });
    const before = (await stat(path.join(dir, 'a.yaml'))).mtimeMs;
    const r = await runCli(['policy', 'fmt', '--check', dir]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, `${path.join(dir, 'a.yaml')}\n${path.join(dir, 'c.json')}\n`, 'the test file and the formatted file are not listed');
    assert.match(r.stderr, /2 files not formatted; run sentrail policy fmt /);
    assert.equal(await readFile(path.join(dir, 'a.yaml'), 'utf8'), UNFORMATTED);
    assert.equal((await stat(path.join(dir, 'a.yaml'))).mtimeMs, before);
    assert.equal((await runCli(['policy', 'fmt', dir])).code, 0);
    assert.equal(await readFile(path.join(dir, 'org.test.yaml'), 'utf8'), TESTS, 'test files are left alone');
    assert.equal(await readFile(path.join(dir, 'c.json'), 'utf8'), '{\n  "version": "x",\n  "policies": []\n}\n');
    const clean = await runCli(['policy', 'fmt', '--check', dir]);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.equal(clean.stdout, '');
  });

  it('--json: a stable report, one entry per file', async () => {
    const dir = await tempFiles({ 'a.yaml': UNFORMATTED, 'b.yaml': FORMATTED });
    const r = await runCli(['policy', 'fmt', '--check', '--json', dir]);
    assert.equal(r.code, 1);
    assert.deepEqual(JSON.parse(r.stdout), {
      check: true,
      files: [
        { file: path.join(dir, 'a.yaml'), status: 'would-change' },
        { file: path.join(dir, 'b.yaml'), status: 'unchanged' },
      ],
      changed: 1,
      unchanged: 1,
      errors: 0,
    });
  });

  it('exit 2: a file it cannot format safely is named file:line: code, left as it is, and the others are still formatted', async () => {
    const aliased = FORMATTED.replace('conditions:\n      allowedAgents: [claude-code]', 'conditions: &c\n      allowedAgents: [claude-code]');
    const dir = await tempFiles({ 'a.yaml': aliased, 'b.yaml': UNFORMATTED });
    const r = await runCli(['policy', 'fmt', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^${path.join(dir, 'a.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:8: yaml-alias: the anchor &c cannot be formatted safely`, 'm'));
    assert.match(r.stderr, /1 file could not be formatted \(left as they are\)/);
    assertNoStackTrace(r.stderr);
    assert.equal(await readFile(path.join(dir, 'a.yaml'), 'utf8'), aliased);
    assert.equal(await readFile(path.join(dir, 'b.yaml'), 'utf8'), FORMATTED);
  });

  it('exit 2: a missing path, and no path at all', async () => {
    const r = await runCli(['policy', 'fmt', '/nonexistent/policies']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not-found: no such file or folder: \/nonexistent\/policies/);
    const none = await runCli(['policy', 'fmt']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /which files\? pass policy files or folders/);
  });
});
