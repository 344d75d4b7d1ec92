// The pure parts of `policy test`: test-file parsing, expectations, the closing line, coverage.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTestFile } from '../../src/policy/test-file.ts';
import { closingLine, computeCoverage, matchesExpectation, runCase, summarize } from '../../src/policy/test-runner.ts';
import type { Decision } from '../../src/policy/types.ts';
import { compilePolicies, p } from '../helpers/policy.ts';

const decision = (over: Partial<Decision>): Decision => ({
  mode: 'allow', policy: null, policyId: null, priority: null, reason: '', policyVersion: null, riskLevel: null, source: 'default', ...over,
});

describe('expectations are partial matches', () => {
  it('mode, policy and policyId each compared only when given', () => {
    const d = decision({ mode: 'block', policy: 'x', policyId: 'id-1' });
    assert.equal(matchesExpectation({ mode: 'block' }, d), true);
    assert.equal(matchesExpectation({ policy: 'x' }, d), true);
    assert.equal(matchesExpectation({ policyId: 'id-1', mode: 'block' }, d), true);
    assert.equal(matchesExpectation({ mode: 'allow' }, d), false);
    assert.equal(matchesExpectation({ policyId: 'id-2' }, d), false);
  });
  it('policy: null asserts that nothing matched', () => {
    assert.equal(matchesExpectation({ policy: null }, decision({})), true);
    assert.equal(matchesExpectation({ policy: null }, decision({ policy: 'x' })), false);
  });
});

describe('the closing line', () => {
  it('N passed, N failed; ERROR counts as failed; skipped only when any', () => {
    assert.equal(closingLine({ passed: 3, failed: 1, errored: 2, skipped: 0 }), '3 passed, 3 failed');
    assert.equal(closingLine({ passed: 0, failed: 0, errored: 0, skipped: 2 }), '0 passed, 0 failed, 2 skipped');
  });
});

describe('coverage', () => {
  it('enabled policies that decided at least one case, over enabled policies', () => {
    const set = compilePolicies([p({ name: 'a', actionPattern: 'a' }), p({ name: 'b', actionPattern: 'b' }), p({ name: 'c', actionPattern: 'c' }), p({ name: 'off', enabled: false })]);
    const results = [
      runCase(set, { name: '1', line: 1, request: { action: 'a' }, expect: { mode: 'allow' } }),
      runCase(set, { name: '2', line: 2, request: { action: 'a' }, expect: { mode: 'block' } }),
      runCase(set, { name: '3', line: 3, request: { action: 'zzz' }, expect: { mode: 'allow' } }),
      runCase(set, { name: '4', line: 4, request: { action: 'c' }, expect: { mode: 'allow' }, skip: 'later' }),
    ];
    assert.deepEqual(results.map((r) => r.status), ['PASS', 'FAIL', 'PASS', 'SKIP']);
    assert.deepEqual(summarize(results), { passed: 2, failed: 1, errored: 0, skipped: 1 });
    const cov = computeCoverage([{ set, results }]);
    assert.equal(cov.total, 3);
    assert.equal(cov.covered, 1, 'a failing case still covers its deciding policy; a skipped one does not');
    assert.equal(Math.round(cov.percent * 10) / 10, 33.3);
    assert.deepEqual(cov.uncovered.map((u) => u.name), ['b', 'c']);
  });
  it('no enabled policies: 100%', () => {
    assert.equal(computeCoverage([{ set: compilePolicies([]), results: [] }]).percent, 100);
  });
});

describe('test files', () => {
  it('parse cases with defaults and skip reasons', () => {
    const { testFile, diagnostics } = parseTestFile('policy: ./p.yaml\ncases:\n  - name: a\n    request: { action: x, arguments: { n: 1 } }\n    expect: { mode: allow }\n  - name: b\n    skip: true\n    request: { action: y }\n    expect: { policy: null }\n', 't.test.yaml');
    assert.deepEqual(diagnostics, []);
    assert.equal(testFile!.policy, './p.yaml');
    assert.deepEqual(testFile!.cases.map((c) => [c.name, c.line, c.skip]), [['a', 3, undefined], ['b', 6, 'skipped']]);
    assert.deepEqual(testFile!.cases[0]!.request, { action: 'x', arguments: { n: 1 } });
  });
  it('every mistake with its line: unknown keys, missing action or expect, bad enums, duplicate names', () => {
    const { testFile, diagnostics } = parseTestFile(
      'cases:\n  - name: a\n    request: { agent: x }\n    expect: { mode: allow }\n  - name: a\n    request: { action: y, tool: jira, riskLevel: huge }\n    expect: {}\n  - name: c\n    request: { action: z }\n    expect: { mode: deny, polcy: x }\n    extra: 1\n',
      't.test.yaml',
    );
    assert.equal(testFile, null);
    assert.deepEqual(
      diagnostics.map((d) => `${d.line}:${d.code}`),
      ['3:missing-field', '6:invalid-value', '6:invalid-value', '7:invalid-value', '11:unknown-key', '10:unknown-key', '10:invalid-value'],
    );
  });
});
