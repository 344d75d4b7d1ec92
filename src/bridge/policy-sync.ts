// The org policy the bridge checks calls against: pulled from `C/mcp-gate/policy` (ETag,
// max-age), kept per gate on disk (atomic writes; `sentrail policy …` reads the same copy), or a
// local file with --policy. A document that fails to load, or a gate without the endpoint, turns
// the first check off: the gate then decides everything (policy.md).
import { readFile } from 'node:fs/promises';
import type { CompiledPolicySet } from '../policy/compile.ts';
import { readCachedPolicy } from '../config/policy-cache.ts';
import { pullOrgPolicy } from './org-policy-pull.ts';
import type { HttpClient } from './http-client.ts';

export type PolicyState =
  | { kind: 'loading' }
  | { kind: 'active'; set: CompiledPolicySet; origin: 'file' | 'gate' | 'cache'; version: string | null }
  | { kind: 'off'; reason: string };

export interface PolicySyncOptions {
  gate: string;
  cloudBase: string | null;
  policyFile?: string;
  http: HttpClient;
  /** Asked before each pull: the credential may have been renewed since the last one. */
  headers: () => Promise<Record<string, string>>;
  log: { info(m: string, f?: Record<string, unknown>): void; warn(m: string, f?: Record<string, unknown>): void; debug(m: string, f?: Record<string, unknown>): void };
  /** How long the first tools/list and tools/call wait for the first pull. */
  firstPullWaitMs?: number;
  /** Called when a newer policy is in force (the bridge tells the client to list tools again). */
  onChange?: () => void;
}

const DEFAULT_MAX_AGE_S = 300;
const MIN_REFRESH_S = 5;

export class PolicySync {
  state: PolicyState = { kind: 'loading' };
  private etag: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private firstPull: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly opts: PolicySyncOptions) {}

  get endpoint(): string | null {
    return this.opts.cloudBase ? `${this.opts.cloudBase}/mcp-gate/policy` : null;
  }

  /** Starts loading; `ready()` resolves when the first check can run (or is known to be off). */
  start(): void {
    if (this.firstPull) return;
    this.firstPull = this.begin();
  }

  /** Waits for the first pull, but never longer than the configured few seconds. */
  async ready(): Promise<PolicyState> {
    this.start();
    if (this.state.kind !== 'loading') return this.state;
    const wait = this.opts.firstPullWaitMs ?? 3000;
    await Promise.race([this.firstPull, new Promise((r) => setTimeout(r, wait).unref())]);
    return this.state;
  }

  private async begin(): Promise<void> {
    if (!this.opts.policyFile && !this.endpoint) {
      this.state = { kind: 'off', reason: 'the gate URL has no /mcp-gate base to pull the org policy from (pass --policy or --cloud-url)' };
      this.opts.log.info(`first check off: ${this.state.reason}`);
      return;
    }
    const { compilePolicySet, formatDiagnostic, hasErrors, loadPolicyPath, loadPolicyText } = await import('./policy-runtime.ts');
    if (this.opts.policyFile) {
      const { document, diagnostics } = await loadPolicyPath(this.opts.policyFile);
      if (hasErrors(diagnostics)) {
        const first = diagnostics.find((d) => d.severity === 'error')!;
        this.state = { kind: 'off', reason: `--policy ${this.opts.policyFile} is invalid (${formatDiagnostic(first)})` };
        this.opts.log.warn(`${this.state.reason}: the first check is off; the gate decides every call`);
      } else {
        this.state = { kind: 'active', set: compilePolicySet(document), origin: 'file', version: document.version };
        this.opts.log.info('first check: using the local policy file', { file: this.opts.policyFile, version: document.version });
      }
      return;
    }
    if (!this.endpoint) {
      this.state = { kind: 'off', reason: 'the gate URL has no /mcp-gate base to pull the org policy from (pass --policy or --cloud-url)' };
      this.opts.log.info(`first check off: ${this.state.reason}`);
      return;
    }
    // The last good copy works at once; the pull then brings it up to date.
    const cached = await readCachedPolicy(this.opts.gate);
    if (cached) {
      try {
        const text = await readFile(cached.file, 'utf8');
        const { document, diagnostics } = loadPolicyText(text, cached.file);
        if (!hasErrors(diagnostics)) {
          this.state = { kind: 'active', set: compilePolicySet(document), origin: 'cache', version: document.version };
          this.etag = cached.meta.etag;
        }
      } catch {
        // an unreadable cache is as good as none
      }
    }
    await this.pull();
  }

  /** One pull; schedules the next from the answer's max-age. */
  async pull(): Promise<void> {
    const endpoint = this.endpoint;
    if (!endpoint || this.stopped) return;
    let maxAge: number | null = null;
    /** Why this pull brought no policy, when it did not (the reason the first check is off, if it is). */
    let failed: string | null = null;
    try {
      const outcome = await pullOrgPolicy({ gate: this.opts.gate, endpoint, http: this.opts.http, headers: await this.opts.headers(), etag: this.etag });
      switch (outcome.kind) {
        case 'unchanged':
          maxAge = outcome.maxAge;
          this.opts.log.debug('org policy unchanged (304)');
          break;
        case 'no-endpoint':
          this.turnOff('the gate has no org policy endpoint (404)');
          break;
        case 'refused':
          maxAge = outcome.maxAge;
          failed = outcome.message;
          this.opts.log.warn(`could not pull the org policy (${outcome.message}); keeping the last copy`, { status: outcome.status });
          break;
        case 'not-policy':
          // Not the gate's word on its policy (a web page, say): the last good copy stays, and the
          // next pull comes soon, as after a network error.
          maxAge = outcome.maxAge ?? 30;
          failed = outcome.message;
          this.opts.log.warn(`could not pull the org policy: ${outcome.message}; keeping the last copy`);
          break;
        case 'invalid':
          maxAge = outcome.maxAge;
          this.turnOff(outcome.message);
          break;
        case 'updated': {
          maxAge = outcome.maxAge;
          const before = this.state.kind === 'active' ? this.state.version : undefined;
          this.state = { kind: 'active', set: outcome.set, origin: 'gate', version: outcome.version };
          this.etag = outcome.etag;
          this.opts.log.info('first check: org policy pulled', { version: outcome.version, policies: outcome.policies });
          if (before !== undefined && before !== outcome.version) this.opts.onChange?.();
        }
      }
    } catch (err) {
      failed = `could not reach ${endpoint}: ${(err as Error).message}`;
      this.opts.log.warn('could not pull the org policy; keeping the last copy', { error: (err as Error).message });
      maxAge = 30;
    }
    if (this.state.kind === 'loading') this.turnOff(failed ? `no org policy could be had yet (${failed})` : 'no org policy could be had yet');
    this.schedule(maxAge ?? DEFAULT_MAX_AGE_S);
  }

  private turnOff(reason: string): void {
    this.state = { kind: 'off', reason };
    this.opts.log.warn(`first check off: ${reason}; the gate decides every call`);
  }

  private schedule(seconds: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pull(), Math.max(seconds, MIN_REFRESH_S) * 1000);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
