// The gate's org policy: loaded once at start (an invalid policy stops the gate), then reloaded
// when its file or folder changes, so a gate can move ahead of the copy a bridge cached. The check
// is a stat of the files, made on request and at most once a second; a reload that fails keeps the
// last good policy and says so once per change. It also renders the document the gate serves at
// `GET /mcp-gate/policy`, with its ETag.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { compilePolicySet, type CompiledPolicySet } from '../policy/compile.ts';
import { formatDiagnostic, hasErrors, sortDiagnostics, type Diagnostic } from '../policy/diagnostics.ts';
import { listPolicyFiles, loadPolicyPath } from '../policy/load.ts';
import type { KillSwitch, Policy, PolicyDocument } from '../policy/types.ts';

/** The document as served: policy.md's fields only (no load positions), `version` when set. */
export interface ServedPolicyDocument {
  version?: string;
  policies: Omit<Policy, 'index' | 'location'>[];
  killSwitch: KillSwitch;
}

export interface PolicySnapshot {
  set: CompiledPolicySet;
  version: string | null;
  policyCount: number;
  killSwitch: KillSwitch;
  /** The served JSON body and its strong ETag (a hash of exactly that body). */
  body: string;
  etag: string;
}

export interface PolicySourceOptions {
  log: { info(m: string): void; warn(m: string): void };
  /** Milliseconds between two looks at the files; 1000 in the gate. */
  checkIntervalMs?: number;
  now?: () => number;
}

export class PolicyLoadError extends Error {
  constructor(
    readonly target: string,
    readonly diagnostics: Diagnostic[],
  ) {
    const lines = sortDiagnostics(diagnostics.filter((d) => d.severity === 'error')).map(formatDiagnostic);
    super(`${target} is not a valid policy:\n${lines.join('\n')}`);
    this.name = 'PolicyLoadError';
  }
}

export function servedDocument(doc: PolicyDocument): ServedPolicyDocument {
  const policies = doc.policies.map(({ index: _index, location: _location, ...policy }) => policy);
  return { ...(doc.version !== null ? { version: doc.version } : {}), policies, killSwitch: doc.killSwitch };
}

function snapshotOf(doc: PolicyDocument): PolicySnapshot {
  const body = JSON.stringify(servedDocument(doc));
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
  return { set: compilePolicySet(doc), version: doc.version, policyCount: doc.policies.length, killSwitch: doc.killSwitch, body, etag };
}

/** What a change looks like from outside: each file's identity, size and mtime (and the folder's). */
async function fingerprint(target: string): Promise<string> {
  const parts: string[] = [];
  try {
    const top = await stat(target);
    parts.push(`${target}:${top.ino}:${top.mtimeMs}`);
    const files = await listPolicyFiles(target);
    if (Array.isArray(files) && top.isDirectory()) {
      for (const file of files) {
        const s = await stat(file);
        parts.push(`${file}:${s.ino}:${s.size}:${s.mtimeMs}`);
      }
    } else {
      parts.push(String(top.size));
    }
  } catch (err) {
    parts.push(`unreadable:${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parts.join('|');
}

export class PolicySource {
  private snapshot: PolicySnapshot;
  private seen: string;
  private lastCheck: number;
  private checking: Promise<void> | null = null;
  private readonly interval: number;
  private readonly now: () => number;

  private constructor(
    readonly target: string,
    first: PolicySnapshot,
    seen: string,
    private readonly opts: PolicySourceOptions,
  ) {
    this.snapshot = first;
    this.seen = seen;
    this.interval = opts.checkIntervalMs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.lastCheck = this.now();
  }

  /** Loads the policy; throws PolicyLoadError when it is not valid. */
  static async open(target: string, opts: PolicySourceOptions): Promise<PolicySource> {
    const seen = await fingerprint(target);
    const { document, diagnostics } = await loadPolicyPath(target);
    if (hasErrors(diagnostics)) throw new PolicyLoadError(target, diagnostics);
    return new PolicySource(target, snapshotOf(document), seen, opts);
  }

  /** The policy to decide with now: reloaded first when the files changed since the last look. */
  async current(): Promise<PolicySnapshot> {
    if (this.now() - this.lastCheck >= this.interval) {
      // Concurrent requests share one check rather than each stat-ing the files.
      this.checking ??= this.check().finally(() => (this.checking = null));
      await this.checking;
    }
    return this.snapshot;
  }

  private async check(): Promise<void> {
    this.lastCheck = this.now();
    const seen = await fingerprint(this.target);
    if (seen === this.seen) return;
    // Remember the change whatever the outcome: a broken file is reported once, not every second.
    this.seen = seen;
    const { document, diagnostics } = await loadPolicyPath(this.target);
    if (hasErrors(diagnostics)) {
      const first = sortDiagnostics(diagnostics.filter((d) => d.severity === 'error')).map(formatDiagnostic);
      this.opts.log.warn(`the policy changed but does not load; still deciding with version ${this.snapshot.version ?? '(none)'}: ${first.join('; ')}`);
      return;
    }
    this.snapshot = snapshotOf(document);
    this.opts.log.info(`policy reloaded: version ${document.version ?? '(none)'}, ${document.policies.length} policies`);
  }
}
