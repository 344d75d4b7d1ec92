// MCP risk inference: the heuristic Sentrail's own CLI mirrors from the hosted gate (policy.md),
// exactly these regexes, in this order, on the lower-cased tool name.
import type { RiskLevel } from './types.ts';

const HIGH = /delete|destroy|drop|remove|\brm\b|truncate|purge/;
const MEDIUM = /create|update|write|post|send|merge|deploy|push|exec|run/;
const LOW = /^(get|list|read|search|fetch|describe|show)/;

export function inferMcpRisk(toolName: string): RiskLevel {
  const name = toolName.toLowerCase();
  if (HIGH.test(name)) return 'high';
  if (MEDIUM.test(name)) return 'medium';
  if (LOW.test(name)) return 'low';
  return 'medium';
}

export const RISK_RANK: Readonly<Record<RiskLevel, number>> = { low: 0, medium: 1, high: 2, critical: 3 };

/** Bit set of risk levels (bit = rank): lets a decision test a policy's risk filter in one AND. */
export const ALL_RISKS = 0b1111;
export function riskBit(level: RiskLevel): number {
  return 1 << RISK_RANK[level];
}

// The "Architecture" and "Policy engine" pages give a shorter rule than the CLI's regexes:
// get/list/read first → low; delete/destroy/drop/remove → high; else medium. The bridge blocks
// only when every candidate risk blocks (policy.md, "Readings").
const DOCS_LOW = /^(get|list|read)/;
const DOCS_HIGH = /delete|destroy|drop|remove/;

export function inferMcpRiskByDocs(toolName: string): RiskLevel {
  const name = toolName.toLowerCase();
  if (DOCS_LOW.test(name)) return 'low';
  if (DOCS_HIGH.test(name)) return 'high';
  return 'medium';
}

/** Bit set of the risk levels an MCP tool name may have under either inference. */
export function mcpRiskCandidates(toolName: string): number {
  return riskBit(inferMcpRisk(toolName)) | riskBit(inferMcpRiskByDocs(toolName));
}
