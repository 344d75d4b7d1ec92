// src/policy/format.ts: canonical key and policy order, one quoting style, comments kept, JSON
// stays JSON, refusals named file:line: code; idempotent; and never a changed decision.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { createRng, generatePolicySource, generateRequests } from '../../bench/policy-generator.ts';
import { decide, decideLocally } from '../../src/policy/decide.ts';
import { formatDiagnostic } from '../../src/policy/diagnostics.ts';
import { formatPolicyText } from '../../src/policy/format.ts';
import { ROOT } from '../helpers/cli.ts';
import { compileYaml } from '../helpers/policy.ts';

function fmt(text: string, file = 'policy.yaml'): string {
  const r = formatPolicyText(text, { file });
  assert.ok(r.ok, r.ok ? '' : r.diagnostics.map(formatDiagnostic).join('\n'));
  return r.text;
}

function refusal(text: string, file = 'policy.yaml'): string[] {
  const r = formatPolicyText(text, { file });
  assert.ok(!r.ok, 'expected the formatter to refuse');
  return r.diagnostics.map(formatDiagnostic);
}

const MESSY = `# Acme's org policy

policies:
  # deletes are never fine
  - priority: 100
    mode: 'block'
    toolNamePattern: 'delete_*'
    actionPattern: "*"
    tool: mcp
    name: "No deleting anything"   # the catch-all block
  - mode: allow
    conditions: { maxRiskLevel: low, allowedAgents: [ "claude-code", cursor ] }
    name: Read-only tools
    tool: mcp
    actionPattern: "*"
    priority: 10
killSwitch: { toolsPaused: [], global: false }
version: '7'
`;

const MESSY_FORMATTED = `# Acme's org policy

version: "7"
killSwitch:
  global: false
  toolsPaused: []
policies:
  - name: Read-only tools
    tool: mcp
    actionPattern: "*"
    conditions:
      allowedAgents: [claude-code, cursor]
      maxRiskLevel: low
    mode: allow
    priority: 10
  # deletes are never fine
  - name: No deleting anything # the catch-all block
    tool: mcp
    actionPattern: "*"
    toolNamePattern: delete_*
    mode: block
    priority: 100
`;

describe('policy fmt: canonical form', () => {
  it('orders top-level keys, policy keys (the contract table order) and policies (priority), with one quoting style', () => {
    assert.equal(fmt(MESSY), MESSY_FORMATTED);
  });

  it('keeps every comment, each with the policy or field it was written by', () => {
    const out = fmt(MESSY);
    const comments = (t: string) => t.split('\n').map((l) => /#.*$/.exec(l)?.[0]).filter(Boolean).sort();
    assert.deepEqual(comments(out), comments(MESSY));
    // the comment above the delete policy moved with it, below the policy that now comes first
    assert.match(out, /priority: 10\n {2}# deletes are never fine\n {2}- name: No deleting anything/);
  });

  it('a comment on the `policies:` line stays with the list; one above a key inside a policy moves with the key; the last one stays last', () => {
    const out = fmt(`policies: # the list
  # about b
  - name: b
    tool: mcp
    actionPattern: "*"
    # why block
    mode: block
    priority: 2
    conditions:
      allowedAgents:
        - x # the x agent
        - y
  - { name: a, tool: mcp, actionPattern: "*", mode: allow, priority: 1 }
# the end
`);
    assert.equal(out, `policies:
  # the list
  - name: a
    tool: mcp
    actionPattern: "*"
    mode: allow
    priority: 1
  # about b
  - name: b
    tool: mcp
    actionPattern: "*"
    conditions:
      allowedAgents:
        - x # the x agent
        - y
    # why block
    mode: block
    priority: 2

# the end
`);
  });

  it('equal priorities: block, then require_approval, then allow, then document order (the engine\'s order)', () => {
    const text = `policies:
  - { name: a1, tool: mcp, actionPattern: "*", mode: allow, priority: 5 }
  - { name: r1, tool: mcp, actionPattern: "*", mode: require_approval, priority: 5 }
  - { name: b1, tool: mcp, actionPattern: "*", mode: block, priority: 5 }
  - { name: a2, tool: mcp, actionPattern: "*", mode: allow, priority: 5 }
  - { name: first, tool: mcp, actionPattern: "*", mode: allow, priority: 1 }
`;
    const names = [...fmt(text).matchAll(/name: (\S+)/g)].map((m) => m[1]);
    assert.deepEqual(names, ['first', 'b1', 'r1', 'a1', 'a2']);
  });

  it('a JSON document stays JSON, ordered and indented by two spaces', () => {
    const out = fmt(JSON.stringify({ policies: [{ priority: 2, mode: 'block', name: 'b', tool: 'mcp', actionPattern: 'x' }, { mode: 'allow', priority: 1, name: 'a', tool: 'mcp', actionPattern: '*' }], version: 'v' }), 'org.json');
    assert.equal(out, `{
  "version": "v",
  "policies": [
    {
      "name": "a",
      "tool": "mcp",
      "actionPattern": "*",
      "mode": "allow",
      "priority": 1
    },
    {
      "name": "b",
      "tool": "mcp",
      "actionPattern": "x",
      "mode": "block",
      "priority": 2
    }
  ]
}
`);
  });

  it('a served JSON document with json: false comes out as canonical YAML (for pull --out), nulls kept', () => {
    const served = JSON.stringify({ policies: [{ id: 'p1', workspaceId: null, name: 'B', tool: 'mcp', actionPattern: '*', mode: 'block', priority: 2, enabled: true }, { name: 'A', tool: 'mcp', actionPattern: 'x*', mode: 'allow', priority: 1 }], version: 'v9' });
    const r = formatPolicyText(served, { file: 'org-policy.yaml', json: false });
    assert.ok(r.ok);
    assert.equal(r.text, `version: v9
policies:
  - name: A
    tool: mcp
    actionPattern: x*
    mode: allow
    priority: 1
  - name: B
    tool: mcp
    actionPattern: "*"
    mode: block
    priority: 2
    enabled: true
    id: p1
    workspaceId: null
`);
  });

  it('strings YAML would read as something else stay quoted', () => {
    const out = fmt(`version: "2026"\npolicies:\n  - { name: "true", tool: mcp, actionPattern: "*", toolName: "null", mode: allow, priority: 1 }\n`);
    assert.match(out, /^version: "2026"$/m);
    assert.match(out, /name: "true"/);
    assert.match(out, /toolName: "null"/);
    assert.equal(compileYaml(out).ordered[0]!.policy.toolName, 'null');
  });

  it('is idempotent: fmt(fmt(x)) == fmt(x), on the repository examples and the docs fixture', () => {
    for (const rel of ['examples/org-policy.yaml', 'examples/demo/org-policy.yaml', 'test/fixtures/policy/sentrail-docs-examples.yaml']) {
      const once = fmt(readFileSync(path.join(ROOT, rel), 'utf8'), rel);
      assert.equal(fmt(once, rel), once, rel);
      const r = formatPolicyText(once, { file: rel });
      assert.ok(r.ok && !r.changed, `${rel}: a formatted file reports no change`);
    }
    assert.equal(fmt(MESSY_FORMATTED), MESSY_FORMATTED);
  });
});

describe('policy fmt: refusals', () => {
  it('anchors and aliases: file:line: yaml-alias', () => {
    const lines = refusal(`policies:
  - name: a
    tool: mcp
    actionPattern: "*"
    conditions: &agents { allowedAgents: [x] }
    mode: allow
    priority: 1
  - name: b
    tool: mcp
    actionPattern: "*"
    conditions: *agents
    mode: block
    priority: 2
`);
    assert.deepEqual(lines, [
      'policy.yaml:5: yaml-alias: the anchor &agents cannot be formatted safely; write the value out in full where it is used',
      'policy.yaml:11: yaml-alias: the alias *agents cannot be formatted safely; write the value out in full',
    ]);
  });

  it('a document that does not load: its own file:line: code: message', () => {
    assert.deepEqual(refusal('policies:\n  - name: a\n    tool: mcp\n    actionPattern: "*"\n    mode: blok\n    priority: 1\n'), [
      'policy.yaml:5: invalid-value: policies[0].mode must be one of allow, block, require_approval, got the string "blok"',
    ]);
    assert.match(refusal('policies: [\n', 'p.yaml')[0]!, /^p\.yaml:\d+: parse-error: /);
    assert.match(refusal('{"policies": [}', 'p.json')[0]!, /^p\.json:1: parse-error: invalid JSON/);
  });
});

describe('policy fmt never changes a decision', () => {
  it('generated documents with many equal priorities: the same decisions (test and bridge) before and after, over generated requests', () => {
    const rng = createRng(9);
    let compared = 0;
    for (let round = 0; round < 12; round++) {
      const source = generatePolicySource(40, 100 + round);
      // Few priorities, so most policies tie, and the order written is shuffled.
      const policies = rng.shuffle(source.policies.map((p) => ({ ...p, priority: rng.int(1, 4) })));
      const doc = { ...source, policies };
      const json = round % 2 === 1;
      const text = json ? JSON.stringify(doc) : stringify(doc);
      const file = json ? 'gen.json' : 'gen.yaml';
      const formatted = fmt(text, file);
      assert.notEqual(formatted, text, 'the generated document was reordered');
      const before = compileYaml(text, file);
      const after = compileYaml(formatted, file);
      for (const { request } of generateRequests(before, { count: 300, seed: round })) {
        const a = decide(before, request);
        const b = decide(after, request);
        assert.deepEqual([b.mode, b.policy, b.reason], [a.mode, a.policy, a.reason], JSON.stringify(request));
        assert.deepEqual(decideLocally(after, request), decideLocally(before, request), JSON.stringify(request));
        compared++;
      }
    }
    assert.equal(compared, 12 * 300);
  });
});
