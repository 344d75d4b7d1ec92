// One audit line per decision the bridge makes or relays (docs/bridge.md, "Audit"): what was
// decided, by whom, for which tool, and a digest of the arguments, never their values. Each line
// carries the SHA-256 of the line before it, so a reader can tell a line was edited or removed.
// Pure: hashing is passed in, so this module loads no crypto on the bridge's start-up path.

export type AuditDecision = 'allow' | 'block' | 'require_approval' | 'fail_closed' | 'error';

export interface AuditRecord {
  time: string;
  gate: string;
  agent: string;
  tool: string;
  decision: AuditDecision;
  /** Who decided: the bridge's first check, or the gate. */
  source: 'local' | 'gate';
  policy: string | null;
  policyId: string | null;
  policyVersion: string | null;
  approvalId: string | null;
  /** require_approval: how the wait ended (executed, denied, expired, failed, approval_pending…); fail_closed / error: why. */
  outcome: string | null;
  latencyMs: number;
  /** SHA-256 of the arguments' canonical JSON (sorted keys): equal arguments, equal digest. */
  argsDigest: string;
}

export type Sha256 = (text: string) => string;

/** The chain's start: the `prev` of the first line ever written. */
export const GENESIS = '0'.repeat(64);

export function auditLine(record: AuditRecord, prev: string): string {
  return JSON.stringify({ ...record, prev });
}

export interface AuditFileLines {
  file: string;
  lines: string[];
}

export interface ChainProblem {
  file: string;
  /** 1-based line number in that file. */
  line: number;
  message: string;
}

export interface ChainReport {
  ok: boolean;
  lines: number;
  files: number;
  /** The first kept line does not start the chain: older files were rotated away (not a problem). */
  anchoredAfterRotation: boolean;
  problems: ChainProblem[];
}

/**
 * Walks the files oldest first. Each line's `prev` must be the hash of the line before it (across
 * files); the first kept line may point at a rotated-away line. An edited line breaks the link
 * after it; a removed line breaks the link at the line that followed it. Both are named.
 */
export function verifyChain(files: readonly AuditFileLines[], sha256: Sha256): ChainReport {
  const problems: ChainProblem[] = [];
  let previous: string | null = null;
  let count = 0;
  let anchored = false;
  for (const { file, lines } of files) {
    lines.forEach((text, i) => {
      if (text === '') return;
      count++;
      let prev: unknown;
      try {
        prev = (JSON.parse(text) as { prev?: unknown }).prev;
      } catch {
        problems.push({ file, line: i + 1, message: 'not a JSON line (edited or cut short)' });
        previous = sha256(text);
        return;
      }
      if (typeof prev !== 'string') problems.push({ file, line: i + 1, message: 'has no prev hash' });
      else if (previous === null) {
        if (prev !== GENESIS) anchored = true;
      } else if (prev !== previous) {
        problems.push({ file, line: i + 1, message: 'its prev hash is not the hash of the line before it: that line was edited, or lines between were removed' });
      }
      previous = sha256(text);
    });
  }
  return { ok: problems.length === 0, lines: count, files: files.length, anchoredAfterRotation: anchored, problems };
}
