// policy.md, "The document" and "Checking a policy": every error and warning, with file, line and field.
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { compileAnchoredRegex } from '../../src/policy/regex-safety.ts';
import { formatDiagnostic } from '../../src/policy/diagnostics.ts';
import { loadPolicyPath } from '../../src/policy/load.ts';
import { check, codes } from '../helpers/policy.ts';

const doc = (policyLines: string) => `version: "1"\npolicies:\n  - name: a\n    tool: mcp\n    actionPattern: "*"\n    mode: allow\n    priority: 1\n${policyLines}`;

describe('errors (exit 2): each names file, line and field', () => {
  it('schema: wrong types, with the field path and what was found', () => {
    const d = check(doc('    enabled: "yes"\n    conditions: { allowedAgents: claude-code }\n'));
    assert.deepEqual(codes(d), ['wrong-type@8', 'wrong-type@9']);
    assert.equal(formatDiagnostic(d[0]!), 'policy.yaml:8: wrong-type: policies[0].enabled must be true or false, got the string "yes"');
    assert.match(d[1]!.message, /policies\[0\]\.conditions\.allowedAgents must be a list of strings/);
  });
  it('schema: priority must be an integer', () => {
    assert.deepEqual(codes(check('policies:\n  - { name: a, tool: mcp, actionPattern: x, mode: allow, priority: "1" }\n')), ['wrong-type@2']);
    assert.deepEqual(codes(check('policies:\n  - { name: a, tool: mcp, actionPattern: x, mode: allow, priority: 1.5 }\n')), ['wrong-type@2']);
  });
  it('schema: enums (tool, mode, riskLevel, risk bounds, kill switch tools)', () => {
    const d = check('policies:\n  - name: a\n    tool: jira\n    actionPattern: x\n    mode: deny\n    priority: 1\n    riskLevel: severe\n    conditions: { minRiskLevel: extreme }\nkillSwitch: { global: false, toolsPaused: [jira] }\n');
    assert.deepEqual(codes(d), ['invalid-value@3', 'invalid-value@5', 'invalid-value@7', 'invalid-value@8', 'invalid-value@9']);
    assert.ok(d.every((x) => /must be one of/.test(x.message)));
  });
  it('schema: missing required fields, all of them reported', () => {
    const d = check('policies:\n  - name: a\n    tool: mcp\n');
    assert.deepEqual(d.map((x) => x.message), [
      'policies[0] has no `actionPattern` (required)',
      'policies[0] has no `mode` (required)',
      'policies[0] has no `priority` (required)',
    ]);
    assert.ok(d.every((x) => x.code === 'missing-field' && x.line === 2));
  });
  it('schema: a document that is not a mapping, or empty', () => {
    assert.deepEqual(codes(check('- a\n- b\n')), ['wrong-type@1']);
    assert.match(check('')[0]!.message, /the document is empty/);
    assert.deepEqual(codes(check('version: "1"\npolicies: {}\n')), ['wrong-type@2']);
    assert.deepEqual(codes(check('version: 2026.1\npolicies: []\n')), ['wrong-type@1']);
  });
  it('unknown keys: document, policy, conditions, matcher, kill switch', () => {
    const d = check(
      'polices: []\npolicies:\n  - name: a\n    tool: mcp\n    actionPattern: x\n    mode: allow\n    priority: 1\n    description: x\n    conditions:\n      allowedAgent: [x]\n      arguments:\n        /a: { equal: 1 }\nkillSwitch: { global: false, paused: [] }\n',
    );
    assert.deepEqual(codes(d), ['unknown-key@1', 'unknown-key@8', 'unknown-key@10', 'unknown-key@12', 'unknown-key@13']);
    assert.match(d[2]!.message, /conditions\.allowedAgent is not a known condition key \(expected one of allowedAgents, blockedAgents/);
  });
  it('an unknown condition is a load error, never a silent non-match', () => {
    // allowedResourceTypes is documented (Policy engine page) and loads; a near miss does not.
    assert.deepEqual(codes(check(doc('    conditions: { allowedResourceType: [repo] }\n'))), ['unknown-key@8']);
    assert.deepEqual(codes(check(doc('    conditions: { customRule: {} }\n'))), ['unknown-key@8']);
  });
  it('a matcher needs exactly one kind, of the right type', () => {
    const d = check(doc('    conditions:\n      arguments:\n        /a: { equals: 1, prefix: x }\n        /b: {}\n        /c: { oneOf: x }\n        /d: { exists: "yes" }\n        /e: { prefix: 3 }\n        /f: 7\n'));
    assert.deepEqual(codes(d), ['invalid-value@10', 'invalid-value@11', 'wrong-type@12', 'wrong-type@13', 'wrong-type@14', 'wrong-type@15']);
  });
  it('JSON Pointers must follow RFC 6901', () => {
    const d = check(doc('    conditions:\n      arguments:\n        a/b: { exists: true }\n        /x~2: { exists: true }\n'));
    assert.deepEqual(codes(d), ['invalid-pointer@10', 'invalid-pointer@11']);
  });
  it('duplicate names, naming where the first one is', () => {
    const d = check('policies:\n  - { name: same, tool: mcp, actionPattern: x, mode: allow, priority: 1 }\n  - { name: same, tool: github, actionPattern: y, mode: block, priority: 2 }\n');
    assert.deepEqual(codes(d), ['duplicate-name@3']);
    assert.match(d[0]!.message, /"same" is already used at policy\.yaml:2/);
  });
  it('toolName / toolNamePattern on a non-mcp policy', () => {
    const d = check('policies:\n  - name: a\n    tool: github\n    actionPattern: "*"\n    toolName: x\n    toolNamePattern: y*\n    mode: block\n    priority: 1\n');
    assert.deepEqual(codes(d), ['mcp-only-field@5', 'mcp-only-field@6']);
  });
  it('a wildcard anywhere but at the end of a pattern loads, warned as disputed; in toolName it is an error', () => {
    for (const inner of ['de*lete', '*_issue', '**', 'a*b*']) {
      const d = check(`policies:\n  - name: a\n    tool: mcp\n    actionPattern: "${inner}"\n    mode: block\n    priority: 1\n`);
      assert.deepEqual(codes(d), ['warning:ambiguous-field@4'], inner);
      assert.match(d[0]!.message, /actionPattern has a \* before its end/);
    }
    assert.deepEqual(codes(check(doc('    toolNamePattern: "*_x"\n'))), ['warning:ambiguous-field@8']);
    assert.deepEqual(codes(check(doc('    toolName: "get_*"\n'))), ['bad-wildcard@8']);
  });
  it('invalid regexes (JavaScript with the u flag)', () => {
    for (const bad of ['(', '[a-', 'a{2,1}', '\\p{Nope}', '\\c']) {
      const d = check(doc(`    conditions:\n      arguments:\n        /q: { regex: ${JSON.stringify(bad)} }\n`));
      assert.deepEqual(codes(d), ['invalid-regex@10'], bad);
    }
  });
  it('a regex that would close the anchoring group is invalid, never a match-everything', () => {
    for (const bad of ['acme/sandbox)|(.*', ')(', 'a)|(?:b']) {
      const d = check(doc(`    conditions:\n      arguments:\n        /q: { regex: ${JSON.stringify(bad)} }\n`));
      assert.deepEqual(codes(d), ['invalid-regex@10'], bad);
    }
  });
  it('regexes with a backreference or a quantified group holding a quantifier are rejected', () => {
    for (const bad of ['(a)\\1', '(?<x>a)\\k<x>', '(a+)+', '(a*)*', '(?:a|b+){2,}', '((ab)*c)+', '(a+)?', '(x+y)*?']) {
      const d = check(doc(`    conditions:\n      arguments:\n        /q: { regex: ${JSON.stringify(bad)} }\n`));
      assert.deepEqual(codes(d), ['unsafe-regex@10'], bad);
    }
  });
  it('safe regexes pass: quantifiers outside groups, groups without quantifiers, escapes and classes', () => {
    for (const ok of ['a+b*', '(ab)+', '(a|b)*', '[(+)]+', '\\(a+\\)+', 'x{2,3}', '(?:foo)?bar+', '\\d+(\\.\\d)?', '[\\]+]*']) {
      assert.equal(compileAnchoredRegex(ok).ok, true, ok);
    }
  });
  it('broken YAML, with the line', () => {
    const d = check('policies:\n  - name: a\n    tool: [mcp\n');
    assert.equal(d[0]!.code, 'parse-error');
    assert.ok(d[0]!.line >= 3);
  });
  it('a duplicate key is an error (YAML 1.2)', () => {
    assert.deepEqual(codes(check('policies:\n  - name: a\n    name: b\n    tool: mcp\n    actionPattern: x\n    mode: allow\n    priority: 1\n')), ['duplicate-key@3']);
  });
  it('JSON: syntax errors with the line; duplicate keys; tab indentation is fine', () => {
    assert.deepEqual(codes(check('{"policies": [\n  {"name": "a",}\n]}', 'p.json')), ['parse-error@2']);
    assert.deepEqual(codes(check('{"policies": [],\n "policies": []}', 'p.json')), ['duplicate-key@2']);
    assert.deepEqual(check('{\n\t"policies": [\n\t\t{"name": "a", "tool": "mcp", "actionPattern": "x", "mode": "allow", "priority": 1}\n\t]\n}', 'p.json'), []);
  });
  it('JSON errors V8 gives no position for still get their line, on one line', () => {
    const cases: [string, number, RegExp][] = [
      ['{\n  "policies": [\n    {\n      "name": \'x\'\n    }\n  ]\n}', 4, /double quotes/],
      ['{\n  "policies": [\n    // a comment\n  ]\n}', 3, /comments are not allowed/],
      ['{\n  "policies": [\n    {"name": "x"', 3, /expected|not closed/],
    ];
    for (const [text, line, message] of cases) {
      const d = check(text, 'p.json');
      assert.equal(d.length, 1);
      assert.equal(d[0]!.line, line, text);
      assert.match(d[0]!.message, message);
      assert.doesNotMatch(d[0]!.message, /\n/);
    }
  });
  it('a YAML error cascade is cut to the first few', () => {
    const d = check('policies:\n  - ]\n' + '  - { name: a, tool: mcp }\n'.repeat(50));
    assert.ok(d.length <= 3, `${d.length} errors`);
  });
  it('a duplicate name is reported on the line of its name field, in YAML and JSON', () => {
    const yaml = check('policies:\n  - tool: mcp\n    actionPattern: x\n    name: same\n    mode: allow\n    priority: 1\n  - tool: mcp\n    actionPattern: y\n    name: same\n    mode: allow\n    priority: 1\n');
    assert.deepEqual(codes(yaml), ['duplicate-name@9']);
    assert.match(yaml[0]!.message, /already used at policy\.yaml:4/);
    const json = check('{"policies": [\n  {\n    "name": "same", "tool": "mcp", "actionPattern": "x", "mode": "allow", "priority": 1\n  },\n  {\n    "tool": "mcp",\n    "name": "same", "actionPattern": "x", "mode": "allow", "priority": 1\n  }\n]}', 'p.json');
    assert.deepEqual(codes(json), ['duplicate-name@7']);
  });
  it('collects every error rather than stopping at the first', () => {
    const d = check('policies:\n  - { name: a, tool: jira, actionPattern: x, mode: allow, priority: 1 }\n  - { name: b, tool: mcp, actionPattern: x, toolName: "x*y", mode: allow, priority: 1 }\n  - { name: c, tool: mcp, actionPattern: x, mode: allow }\n');
    assert.deepEqual(codes(d), ['invalid-value@2', 'bad-wildcard@3', 'missing-field@4']);
  });
});

describe('warnings (exit 0)', () => {
  it('unreachable: an earlier policy of the same tool with the same or * pattern and no stricter conditions', () => {
    const d = check(`policies:
  - { name: all deletes, tool: mcp, actionPattern: "*", toolNamePattern: "delete_*", mode: block, priority: 1 }
  - { name: repo deletes, tool: mcp, actionPattern: delete_repo, mode: allow, priority: 2 }
  - { name: deletes for a, tool: mcp, actionPattern: "delete_*", conditions: { allowedAgents: [a] }, mode: allow, priority: 3 }
  - { name: creates for a, tool: mcp, actionPattern: "create_*", conditions: { allowedAgents: [a] }, mode: allow, priority: 4 }
  - { name: creates for a and b, tool: mcp, actionPattern: "create_x", conditions: { allowedAgents: [a, b] }, mode: block, priority: 5 }
  - { name: creates for a again, tool: mcp, actionPattern: "create_x", conditions: { allowedAgents: [a] }, mode: block, priority: 6 }
  - { name: github everything, tool: github, actionPattern: "*", mode: allow, priority: 7 }
`);
    assert.deepEqual(codes(d), ['warning:unreachable-policy@3', 'warning:unreachable-policy@4', 'warning:unreachable-policy@7']);
    assert.match(d[0]!.message, /"repo deletes" can never be the first match: "all deletes" \(priority 1, policy\.yaml:2\) comes first/);
  });
  it('not unreachable when the earlier policy has a condition the later one lacks', () => {
    const d = check(`policies:
  - { name: high only, tool: mcp, actionPattern: "*", riskLevel: high, mode: block, priority: 1 }
  - { name: everything, tool: mcp, actionPattern: "*", mode: allow, priority: 2 }
  - { name: disabled, tool: mcp, actionPattern: "*", mode: allow, priority: 0, enabled: false }
  - { name: args, tool: mcp, actionPattern: "x", conditions: { arguments: { /a: { equals: 1 } } }, mode: block, priority: 3 }
`);
    assert.deepEqual(codes(d).filter((c) => c.includes('unreachable')), ['warning:unreachable-policy@5']);
  });
  it('use of the arguments extension', () => {
    const d = check(doc('    conditions:\n      arguments:\n        /a: { exists: true }\n'));
    assert.deepEqual(codes(d), ['warning:arguments-extension@9']);
    assert.match(d[0]!.message, /extension of the sentrail CLI.*hosted gate does not document it/);
  });
  it('a policy that can never match (empty agent list, empty risk range)', () => {
    const d = check(doc('    conditions: { allowedAgents: [], minRiskLevel: high, maxRiskLevel: low }\n'));
    assert.deepEqual(codes(d), ['warning:never-matches@8', 'warning:never-matches@8']);
  });
  it('a valid document has no findings', () => {
    assert.deepEqual(check(doc('')), []);
    assert.deepEqual(check('policies: []\n'), []);
  });
});

describe('folders', () => {
  it('load *.json/*.yaml/*.yml in file-name order, test files excepted, as one document', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sentrail-folder-'));
    await writeFile(path.join(dir, '20-b.yaml'), 'policies:\n  - { name: b, tool: mcp, actionPattern: x, mode: allow, priority: 1 }\n');
    await writeFile(path.join(dir, '10-a.json'), JSON.stringify({ version: 'v9', policies: [{ name: 'a', tool: 'mcp', actionPattern: 'x', mode: 'allow', priority: 1 }] }));
    await writeFile(path.join(dir, '30-c.yml'), 'killSwitch: { global: true }\n');
    await writeFile(path.join(dir, 'x.test.yaml'), 'not: a policy\n');
    await writeFile(path.join(dir, 'README.md'), '# not loaded\n');
    await mkdir(path.join(dir, 'sub'));
    const { document, diagnostics } = await loadPolicyPath(dir);
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(document.policies.map((p) => p.name), ['a', 'b']);
    assert.deepEqual(document.policies.map((p) => p.index), [0, 1]);
    assert.equal(document.version, 'v9');
    assert.equal(document.killSwitch.global, true);
    assert.equal(document.files.length, 3);
  });
  it('one file at most sets version and killSwitch; names are unique across files', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sentrail-folder-'));
    await writeFile(path.join(dir, 'a.yaml'), 'version: "1"\nkillSwitch: { global: false }\npolicies:\n  - { name: same, tool: mcp, actionPattern: x, mode: allow, priority: 1 }\n');
    await writeFile(path.join(dir, 'b.yaml'), 'version: "2"\nkillSwitch: { global: true }\npolicies:\n  - { name: same, tool: mcp, actionPattern: y, mode: allow, priority: 1 }\n');
    const { diagnostics } = await loadPolicyPath(dir);
    assert.deepEqual(diagnostics.map((d) => `${path.basename(d.file)}:${d.line}:${d.code}`).sort(), ['b.yaml:1:conflict', 'b.yaml:2:conflict', 'b.yaml:4:duplicate-name']);
  });
  it('a missing path or an empty folder is a clear error', async () => {
    const missing = await loadPolicyPath('/nonexistent/policy.yaml');
    assert.equal(missing.diagnostics[0]!.code, 'not-found');
    const empty = await loadPolicyPath(await mkdtemp(path.join(os.tmpdir(), 'sentrail-empty-')));
    assert.match(empty.diagnostics[0]!.message, /holds no policy files/);
  });
});
