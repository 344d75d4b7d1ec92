// The compiled indexes must never change a decision: the indexed engine against a plain linear
// reference written here from policy.md, over generated policy sets and requests (fixed seeds).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicySet, type CompiledPolicySet } from '../../src/policy/compile.ts';
import { decide, decideLocally, isHiddenFromListing } from '../../src/policy/decide.ts';
import { loadPolicyText } from '../../src/policy/load.ts';
import { resolvePointer, testMatcher } from '../../src/policy/matchers.ts';
import { toCompiled } from '../helpers/reference-matcher.ts';
import { inferMcpRisk, inferMcpRiskByDocs } from '../../src/policy/risk.ts';
import type { Matcher, Policy, PolicyRequest, RiskLevel, Tool } from '../../src/policy/types.ts';
import { createRng, generateBenchCase, type Rng } from '../../bench/policy-generator.ts';

const RANK: Record<RiskLevel, number> = { low: 0, medium: 1, high: 2, critical: 3 };

function patternMatches(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  return value === pattern;
}

type Tri = 'yes' | 'no' | 'unknown';

/** policy.md step 2 for one policy, read straight off the document; `unknown` for what a caller cannot know. */
type Req = Required<Pick<PolicyRequest, 'action'>> & { tool: Tool; agent: string; risk: RiskLevel | null; risks: (RiskLevel | null)[]; resourceType?: string; args: unknown };

/** One risk level against the policy's risk filters; `minimum` is the Policy engine page's riskLevel reading. */
function riskHolds(p: Policy, risk: RiskLevel | null, minimum: boolean): boolean {
  const c = p.conditions ?? {};
  if ((p.riskLevel || c.minRiskLevel || c.maxRiskLevel) && risk === null) return false;
  if (p.riskLevel && (minimum ? RANK[risk!] < RANK[p.riskLevel] : risk !== p.riskLevel)) return false;
  if (c.minRiskLevel && RANK[risk!] < RANK[c.minRiskLevel]) return false;
  if (c.maxRiskLevel && RANK[risk!] > RANK[c.maxRiskLevel]) return false;
  return true;
}

function refMatch(p: Policy, r: Req, opts: { bridge?: boolean; listing?: boolean }): Tri {
  if (p.tool !== '*' && p.tool !== r.tool) return 'no';
  if (!patternMatches(p.actionPattern, r.action)) return 'no';
  let unknown = false;
  if (opts.bridge && p.toolName !== undefined && p.toolNamePattern !== undefined) {
    const a = p.toolName === r.action;
    if (a !== patternMatches(p.toolNamePattern, r.action)) unknown = true;
    else if (!a) return 'no';
  } else {
    if (p.toolName !== undefined && p.toolName !== r.action) return 'no';
    if (p.toolNamePattern !== undefined && !patternMatches(p.toolNamePattern, r.action)) return 'no';
  }
  const c = p.conditions ?? {};
  if (opts.bridge) {
    const outcomes = r.risks.flatMap((risk) => [riskHolds(p, risk, false), riskHolds(p, risk, true)]);
    if (outcomes.every((o) => !o)) return 'no';
    if (!outcomes.every((o) => o)) unknown = true;
    const rules = c.customRules as object | undefined;
    if (c.allowedResourceTypes || c.blockedResourceTypes || p.actionType !== undefined || (rules && Object.keys(rules).length > 0)) unknown = true;
  } else {
    if (!riskHolds(p, r.risk, false)) return 'no';
    if (c.allowedResourceTypes && (r.resourceType === undefined || !c.allowedResourceTypes.includes(r.resourceType))) return 'no';
    if (c.blockedResourceTypes && r.resourceType !== undefined && c.blockedResourceTypes.includes(r.resourceType)) return 'no';
  }
  if (c.allowedAgents && !c.allowedAgents.includes(r.agent)) return 'no';
  if (c.blockedAgents) {
    if (opts.bridge) unknown = true;
    else if (!c.blockedAgents.includes(r.agent)) return 'no';
  }
  if (p.resourceType !== undefined) {
    if (opts.bridge) unknown = true;
    else if (p.resourceType !== r.resourceType) return 'no';
  }
  if (c.arguments) {
    if (opts.listing) return 'unknown';
    for (const [pointer, m] of Object.entries(c.arguments)) {
      const tokens = pointer === '' ? [] : pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
      if (testMatcher(toCompiled(m), resolvePointer(r.args, tokens)) !== true) return 'no';
    }
  }
  return unknown ? 'unknown' : 'yes';
}

function normalized(req: PolicyRequest) {
  const tool = req.tool ?? 'mcp';
  const risk = req.riskLevel ?? (tool === 'mcp' ? inferMcpRisk(req.action) : null);
  const risks = req.riskLevel === undefined && tool === 'mcp' ? [risk, inferMcpRiskByDocs(req.action)] : [risk];
  return { tool, action: req.action, agent: req.agent ?? 'unknown', risk, risks, resourceType: req.resourceType, args: req.arguments ?? {} };
}

function reference(set: CompiledPolicySet, req: PolicyRequest) {
  const r = normalized(req);
  const decided = set.ordered.find((cp) => refMatch(cp.policy, r, {}) === 'yes');
  // the bridge / listing rule: walk in order; an unknown non-block makes every later block uncertain
  // Ties: a block is certain only if no non-block of its priority may match (the tie-break is undocumented).
  const certain = (opts: { bridge: boolean; listing?: boolean }) => {
    for (const cp of set.ordered) {
      const m = refMatch(cp.policy, r, opts);
      if (m === 'yes') {
        return cp.mode === 'block' && !set.ordered.some((o) => o.mode !== 'block' && o.policy.priority === cp.policy.priority && refMatch(o.policy, r, opts) !== 'no');
      }
      if (m === 'unknown' && cp.mode !== 'block') return false;
    }
    return false;
  };
  return { policy: decided?.policy.name ?? null, certainBlock: certain({ bridge: true }), hidden: certain({ bridge: true, listing: true }) };
}

/** Small documents that use every feature, the ones the benchmark generator leaves out included. */
function featureRichDocument(rng: Rng, n: number): string {
  const tools: Tool[] = ['mcp', 'mcp', 'mcp', 'github', 'linear'];
  const names = ['get_file', 'delete_repo', 'create_issue', 'run_sql', 'push_files', 'list_x', 'deploy_app', 'merge_pr'];
  const dotted = ['pull_request.create', 'pull_request.merge', 'issue.update', 'ref.delete', 'read'];
  const policies = Array.from({ length: n }, (_, i) => {
    const tool = rng.chance(0.05) ? '*' : rng.pick(tools);
    const pool = tool === 'mcp' || tool === '*' ? names : dotted;
    const target = rng.pick(pool);
    const p: Record<string, unknown> = {
      name: `p${i}`,
      tool,
      actionPattern: rng.pick(['*', '*', target, target.slice(0, rng.int(1, target.length - 1)) + '*']),
      mode: rng.pick(['allow', 'block', 'require_approval']),
      priority: rng.int(1, 30),
    };
    if (rng.chance(0.05)) p.actionType = rng.pick(['write', 'read']);
    if (rng.chance(0.1)) p.workspaceId = null;
    if (tool === 'mcp' && rng.chance(0.2)) p.toolNamePattern = rng.pick(['delete_*', 'get_*', 'run_*', 'create_issue']);
    if (tool === 'mcp' && rng.chance(0.1)) p.toolName = rng.pick(names);
    if (rng.chance(0.1)) p.resourceType = rng.pick(['repo', 'issue']);
    if (rng.chance(0.1)) p.riskLevel = rng.pick(['low', 'medium', 'high', 'critical']);
    if (rng.chance(0.1)) p.enabled = false;
    const c: Record<string, unknown> = {};
    if (rng.chance(0.2)) c.allowedAgents = rng.sample(['a', 'b', 'c', 'unknown'], rng.int(1, 2));
    if (rng.chance(0.1)) c.blockedAgents = rng.sample(['a', 'b', 'c'], rng.int(1, 2));
    if (rng.chance(0.15)) c.minRiskLevel = rng.pick(['low', 'medium', 'high']);
    if (rng.chance(0.1)) c.maxRiskLevel = rng.pick(['medium', 'high', 'critical']);
    if (rng.chance(0.05)) c.allowedResourceTypes = rng.sample(['repo', 'issue'], rng.int(1, 2));
    if (rng.chance(0.05)) c.blockedResourceTypes = rng.sample(['repo', 'issue'], 1);
    if (rng.chance(0.08)) c.customRules = rng.pick([{}, { maxFiles: 3 }]);
    if (tool === 'mcp' && rng.chance(0.4)) {
      const args: Record<string, unknown> = {};
      for (let k = rng.int(1, 2); k > 0; k--) {
        const pointer = rng.pick(['/env', '/repo', '/n', '/opts/force']);
        args[pointer] = rng.pick([
          { equals: rng.pick(['prod', 'dev', 1, true, null]) },
          { oneOf: rng.sample(['prod', 'dev', 'qa', 1, '1'], 2) },
          { prefix: rng.pick(['acme/', 'acme/api', 'p']) },
          { regex: rng.pick(['prod|dev', 'acme/.*', '\\d+']) },
          { exists: rng.chance(0.5) },
          { equals: { nested: [1] } },
        ]);
      }
      c.arguments = args;
    }
    if (Object.keys(c).length > 0) p.conditions = c;
    return p;
  });
  return JSON.stringify({ version: 'prop', policies });
}

function randomRequest(rng: Rng): PolicyRequest {
  const tool = rng.pick<Tool>(['mcp', 'mcp', 'mcp', 'github', 'linear', 'slack']);
  const action = tool === 'mcp'
    ? rng.pick(['get_file', 'delete_repo', 'create_issue', 'run_sql', 'push_files', 'list_x', 'deploy_app', 'merge_pr', 'other', 'delete_', 'get'])
    : rng.pick(['pull_request.create', 'pull_request.merge', 'issue.update', 'ref.delete', 'read', 'pull', 'x']);
  const r: PolicyRequest = { tool, action };
  if (rng.chance(0.8)) r.agent = rng.pick(['a', 'b', 'c', 'd']);
  if (tool !== 'mcp' ? rng.chance(0.7) : rng.chance(0.2)) r.riskLevel = rng.pick(['low', 'medium', 'high', 'critical']);
  if (rng.chance(0.3)) r.resourceType = rng.pick(['repo', 'issue']);
  if (rng.chance(0.8)) {
    const args: Record<string, unknown> = {};
    if (rng.chance(0.6)) args.env = rng.pick(['prod', 'dev', 'qa', 1, true, null, { nested: [1] }]);
    if (rng.chance(0.6)) args.repo = rng.pick(['acme/api', 'acme/web', 'other', 'p', 5]);
    if (rng.chance(0.4)) args.n = rng.pick([1, '1', 0, 12]);
    if (rng.chance(0.4)) args.opts = { force: rng.pick([true, false, 'yes']) };
    r.arguments = args;
  }
  return r;
}

function assertAgrees(set: CompiledPolicySet, req: PolicyRequest, label: string): void {
  const ref = reference(set, req);
  assert.equal(decide(set, req).policy, ref.policy, `${label} decide ${JSON.stringify(req)}`);
  assert.equal(decideLocally(set, req).certainBlock, ref.certainBlock, `${label} certainBlock ${JSON.stringify(req)}`);
  if ((req.tool ?? 'mcp') === 'mcp' && req.riskLevel === undefined) {
    assert.equal(isHiddenFromListing(set, req.action, req.agent ?? 'unknown'), ref.hidden, `${label} hidden ${JSON.stringify(req)}`);
  }
}

describe('indexed decisions equal a linear reference', () => {
  it('feature-rich random documents: 200 documents × 50 requests', () => {
    const rng = createRng(0xd0c5);
    for (let d = 0; d < 200; d++) {
      const { document, diagnostics } = loadPolicyText(featureRichDocument(rng, rng.int(1, 40)), `doc-${d}.json`);
      assert.deepEqual(diagnostics.filter((x) => x.severity === 'error'), []);
      const set = compilePolicySet(document);
      for (let q = 0; q < 50; q++) {
        const req = randomRequest(rng);
        try {
          assertAgrees(set, req, `doc ${d}`);
        } catch (err) {
          if (process.env.DEBUG_EQUIV) console.error(JSON.stringify(document.policies.filter((p) => p.enabled && p.tool === (req.tool ?? 'mcp')).map(({ location, index, ...p }) => p)));
          throw err;
        }
      }
    }
  });
  for (const count of [100, 1000]) {
    it(`the benchmark's generated set at ${count} policies`, () => {
      const { set, requests } = generateBenchCase(count, 7, 600);
      for (const g of requests) assertAgrees(set, g.request, `bench ${count}`);
    });
  }
});
