// The policy decision benchmark: decisions/s and µs per decision of `decide(compiled, request)` at
// 10 / 100 / 1,000 / 10,000 generated policies, next to the same decisions made by Cedar
// (@cedar-policy/cedar-wasm, pre-parsed policy set). Method, mix and encoding: bench/README.md.
//
//   npm run bench:policy                      # print the tables (progress on stderr)
//   npm run bench:policy -- --write           # …and put them into bench/README.md
//   options: --sizes=10,100  --requests=4096  --seed=1  --cedar-check-cap=N (0 = every request)
//            --sabotage-cedar: leave the most deciding policy out of the Cedar set, to see the
//            agreement check fail (exit 1)
//
// Exit status 1 when the two engines disagree on any checked request (nothing is timed then).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { compilePolicySet, decide, type CompiledPolicySet, type PolicyRequest } from '../src/policy/index.ts';
import {
  cedarFirstMatch,
  createRng,
  decisionAtRank,
  deriveSeed,
  generatePolicyDocument,
  generateRequests,
  REQUEST_CATEGORIES,
  toCedarPolicySet,
  toCedarRequest,
  type CedarRequest,
  type GeneratedRequest,
  type RequestCategory,
} from './policy-generator.ts';

// ── Options ─────────────────────────────────────────────────────────────────────────────────────

const argv = process.argv.slice(2);
function option(name: string, fallback: string): string {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}
const WRITE = argv.includes('--write');
const SABOTAGE = argv.includes('--sabotage-cedar');
const SIZES = option('sizes', '10,100,1000,10000').split(',').map(Number);
const REQUESTS = Number(option('requests', '4096'));
const SEED = Number(option('seed', '1'));
/**
 * Cedar decides (and is timed on) every request of the set unless one Cedar call costs so much
 * that this would not fit the time budget (10,000 policies): then only the first N requests of
 * each category (the set is shuffled, so this is a fixed-seed sample). 0: every request, always.
 */
const CEDAR_CHECK_CAP = Number(option('cedar-check-cap', '400'));
/** Seconds of Cedar calls per size that checking every request may take before the cap applies. */
const CEDAR_CHECK_BUDGET_S = 25;

const BATCH = 64; // decisions per hrtime sample (one decision is below the timer's resolution)
const SAMPLES = 6000; // batch samples per round (≈ 2,000 per category)
const ROUNDS = 3; // sentrail is measured in rounds; the round with the median p50 is reported
const WARMUP_MS = 500;
const LONG_LOOP_MS = 1000; // per round; decisions/s is the median of the rounds
const TARGETS: Record<number, number> = { 1000: 1, 10000: 5 }; // p50 µs

const log = (msg: string): void => {
  process.stderr.write(`[bench] ${msg}\n`);
};

// ── Statistics and timing ───────────────────────────────────────────────────────────────────────

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

interface Stats {
  samples: number;
  p50: number;
  p99: number;
}

function stats(values: number[] | Float64Array): Stats {
  const sorted = Float64Array.from(values).sort();
  return { samples: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

let sink = 0; // every decision's result feeds this, so no loop is dead code

/**
 * The request set laid out for timing: blocks of BATCH requests of one category each, the blocks
 * shuffled (seeded), so that one pass through the whole set yields per-category samples with the
 * same working set (all requests) as the overall figure. A category's last block is completed
 * with its first requests.
 */
interface TimingLayout {
  requests: PolicyRequest[];
  blockCategory: RequestCategory[];
}

function timingLayout(cats: Record<RequestCategory, GeneratedRequest[]>, seed: number): TimingLayout {
  const blocks: { category: RequestCategory; requests: PolicyRequest[] }[] = [];
  for (const category of REQUEST_CATEGORIES) {
    const list = cats[category].map((g) => g.request);
    for (let i = 0; i < list.length; i += BATCH) {
      const block = list.slice(i, i + BATCH);
      for (let k = 0; block.length < BATCH; k++) block.push(list[k % list.length]!);
      blocks.push({ category, requests: block });
    }
  }
  createRng(deriveSeed(seed, 'timing-layout')).shuffle(blocks);
  return { requests: blocks.flatMap((b) => b.requests), blockCategory: blocks.map((b) => b.category) };
}

/** µs per decision of `samples` batches of BATCH consecutive decisions (one block each), cycling through the layout. */
function timeBatches(set: CompiledPolicySet, layout: TimingLayout, samples: number): Record<RequestCategory, number[]> {
  const out = { early: [], late: [], 'no-match': [] } as Record<RequestCategory, number[]>;
  const { requests, blockCategory } = layout;
  const blocks = blockCategory.length;
  let j = 0;
  for (let s = 0; s < samples; s++) {
    const block = s % blocks;
    j = block * BATCH;
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < BATCH; k++) sink += decide(set, requests[j++]!).mode.length;
    out[blockCategory[block]!].push(Number(process.hrtime.bigint() - t0) / 1000 / BATCH);
  }
  return out;
}

/** Decisions per second over a loop of at least `ms` through the whole (shuffled) request set. */
function longLoop(set: CompiledPolicySet, requests: PolicyRequest[], ms: number): number {
  const n = requests.length;
  const limit = BigInt(ms) * 1_000_000n;
  let done = 0;
  let j = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < limit) {
    for (let k = 0; k < 4096; k++) {
      sink += decide(set, requests[j]!).mode.length;
      if (++j === n) j = 0;
    }
    done += 4096;
    elapsed = process.hrtime.bigint() - t0;
  }
  return done / (Number(elapsed) / 1e9);
}

function warmUp(set: CompiledPolicySet, requests: PolicyRequest[], ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) for (const r of requests) sink += decide(set, r).mode.length;
}

/** The cost of an empty timed batch: what each sample carries besides the decisions. */
function timerOverheadNs(): number {
  const out: number[] = [];
  for (let s = 0; s < 20000; s++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < BATCH; k++) sink += k;
    out.push(Number(process.hrtime.bigint() - t0));
  }
  return stats(out).p50;
}

// ── Cedar ───────────────────────────────────────────────────────────────────────────────────────

interface CedarEngine {
  id: string;
  /** First-match rank among the satisfied permits, -1 when none; and Cedar's evaluation errors. */
  firstMatch(call: CedarRequest): { rank: number; errors: number };
}

function cedarEngine(set: CompiledPolicySet, id: string, leaveOut?: number): { engine: CedarEngine; parseMs: number; textBytes: number } {
  const staticPolicies = toCedarPolicySet(set.ordered.map((cp) => cp.policy));
  if (leaveOut !== undefined) delete staticPolicies[`p${leaveOut}`];
  const textBytes = Object.values(staticPolicies).reduce((s, t) => s + t.length, 0);
  const t0 = performance.now();
  const parsed = cedar.preparsePolicySet(id, { staticPolicies });
  const parseMs = performance.now() - t0;
  if (parsed.type !== 'success') throw new Error(`Cedar rejected the translated policy set: ${JSON.stringify(parsed.errors.slice(0, 3))}`);
  const engine: CedarEngine = {
    id,
    firstMatch(call) {
      // Arguments are arbitrary JSON: Cedar answers `failure` for what it cannot hold (null, floats).
      const answer = cedar.statefulIsAuthorized({ ...call, context: call.context as cedar.Context, preparsedPolicySetId: id, entities: [] });
      if (answer.type !== 'success') throw new Error(`Cedar failed: ${JSON.stringify(answer.errors.slice(0, 3))}`);
      return { rank: cedarFirstMatch(answer.response.diagnostics.reason), errors: answer.response.diagnostics.errors.length };
    },
  };
  return { engine, parseMs, textBytes };
}

interface CheckResult {
  /** µs of each Cedar call (request translation excluded), per category. */
  timings: Record<RequestCategory, number[]>;
  checked: number;
  perCategory: Record<RequestCategory, number>;
  /** Requests where mode or deciding policy differ… */
  disagreements: number;
  /** …and of those, where one engine allows and the other does not. */
  allowDisagreements: number;
  cedarErrors: number;
  capped: boolean;
}

/**
 * Both engines on each chosen request: mode and deciding policy must be the same. Each Cedar call
 * is timed too (one call per sample: a call is far above the timer's resolution); the timings
 * are reported only if the engines agreed on every request.
 */
function checkAgreement(set: CompiledPolicySet, engine: CedarEngine, requests: GeneratedRequest[], capped: boolean): CheckResult {
  const perCategory = { early: 0, late: 0, 'no-match': 0 } as Record<RequestCategory, number>;
  const timings = { early: [], late: [], 'no-match': [] } as Record<RequestCategory, number[]>;
  let disagreements = 0;
  let allowDisagreements = 0;
  let cedarErrors = 0;
  const started = performance.now();
  for (const [i, g] of requests.entries()) {
    const ours = decide(set, g.request);
    const call = toCedarRequest(g.request);
    const t0 = process.hrtime.bigint();
    const { rank, errors } = engine.firstMatch(call);
    timings[g.category].push(Number(process.hrtime.bigint() - t0) / 1000);
    cedarErrors += errors;
    const theirs = decisionAtRank(set, rank);
    perCategory[g.category]++;
    if (ours.mode !== theirs.mode || ours.policy !== theirs.policy) {
      disagreements++;
      if ((ours.mode === 'allow') !== (theirs.mode === 'allow')) allowDisagreements++;
      if (disagreements <= 10) {
        process.stderr.write(
          `DISAGREEMENT at ${set.size} policies\n  request: ${JSON.stringify(g.request)}\n` +
            `  sentrail: ${ours.mode} by ${JSON.stringify(ours.policy)}\n  cedar:    ${theirs.mode} by ${JSON.stringify(theirs.policy)}\n` +
            (rank >= 0 ? `  cedar's policy: ${toCedarPolicySet([set.ordered[rank]!.policy]).p0}\n` : ''),
        );
      }
    }
    if ((i + 1) % 500 === 0) log(`  cedar check ${i + 1}/${requests.length} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  return { timings, checked: requests.length, perCategory, disagreements, allowDisagreements, cedarErrors, capped };
}

/** Warm-up: Cedar calls for up to `ms` (at most `max`); returns µs of each. */
function warmUpCedar(engine: CedarEngine, calls: CedarRequest[], ms: number, max: number): number[] {
  const out: number[] = [];
  const end = performance.now() + ms;
  for (let i = 0; i < max && performance.now() < end; i++) {
    const t0 = process.hrtime.bigint();
    sink += engine.firstMatch(calls[i % calls.length]!).rank;
    out.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return out;
}

/** The first `cap` requests of each category (the set is shuffled: a deterministic sample). */
function stratified(requests: GeneratedRequest[], cap: number): GeneratedRequest[] {
  const taken = { early: 0, late: 0, 'no-match': 0 } as Record<RequestCategory, number>;
  return requests.filter((g) => taken[g.category]++ < cap);
}

// ── The run ─────────────────────────────────────────────────────────────────────────────────────

interface Row {
  policies: number;
  engine: string;
  opsPerSec: number;
  /** p50 of each round (sentrail), for the spread. */
  roundP50s?: number[];
  overall: Stats;
  byCategory: Record<RequestCategory, Stats | null>;
}

interface SizeReport {
  policies: number;
  compileMs: number;
  requests: number;
  categories: Record<RequestCategory, number>;
  check: CheckResult;
  cedarParseMs: number;
  cedarTextKiB: number;
  /** FNV-1a of the policies and requests: equal fingerprints, equal inputs. */
  fingerprint: string;
}

function byCategory(requests: GeneratedRequest[]): Record<RequestCategory, GeneratedRequest[]> {
  const out = { early: [], late: [], 'no-match': [] } as Record<RequestCategory, GeneratedRequest[]>;
  for (const g of requests) out[g.category].push(g);
  return out;
}

const started = performance.now();
const loadAtStart = os.loadavg();
const rows: Row[] = [];
const reports: SizeReport[] = [];
let failed = false;
const overheadNs = timerOverheadNs();
log(`timer: an empty ${BATCH}-iteration sample measures ${overheadNs.toFixed(0)} ns (${(overheadNs / BATCH).toFixed(2)} ns per decision, not subtracted)`);

for (const size of SIZES) {
  log(`── ${size} policies ──`);
  let t = performance.now();
  const document = generatePolicyDocument(size, SEED);
  const genMs = performance.now() - t;
  t = performance.now();
  const set = compilePolicySet(document);
  const compileMs = performance.now() - t;
  const requests = generateRequests(set, { count: REQUESTS, seed: SEED });
  const cats = byCategory(requests);
  const categories = Object.fromEntries(REQUEST_CATEGORIES.map((c) => [c, cats[c].length])) as Record<RequestCategory, number>;
  log(`generated and validated in ${genMs.toFixed(0)} ms, compiled in ${compileMs.toFixed(1)} ms; ${requests.length} requests: ${JSON.stringify(categories)}`);

  // 1. Agreement, before anything is timed.
  let leaveOut: number | undefined;
  if (SABOTAGE) {
    const counts = new Map<number, number>();
    for (const g of requests) if (g.decisiveRank !== null) counts.set(g.decisiveRank, (counts.get(g.decisiveRank) ?? 0) + 1);
    leaveOut = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
    log(`--sabotage-cedar: policy p${leaveOut} is left out of the Cedar set`);
  }
  const { engine, parseMs, textBytes } = cedarEngine(set, `bench-${size}`, leaveOut);
  log(`cedar: ${(textBytes / 1024).toFixed(0)} KiB of policy text pre-parsed in ${parseMs.toFixed(0)} ms`);
  // Up to 1 s or 2,000 calls: V8 tiers Cedar's wasm up while it runs hot.
  const warm = warmUpCedar(engine, requests.slice(-500).map((g) => toCedarRequest(g.request)), 1000, 2000);
  const perCallS = stats(warm.slice(Math.floor(warm.length / 2))).p50 / 1e6;
  const capped = CEDAR_CHECK_CAP > 0 && perCallS * requests.length > CEDAR_CHECK_BUDGET_S;
  const toCheck = capped ? stratified(requests, CEDAR_CHECK_CAP) : requests;
  log(`cedar check: ${toCheck.length} requests${capped ? ` (capped: ~${(perCallS * 1000).toFixed(1)} ms per call after ${warm.length} warm-up calls)` : ''}`);
  const check = checkAgreement(set, engine, toCheck, capped);
  const fingerprint = deriveSeed(0, JSON.stringify([set.ordered.map((cp) => cp.policy), requests])).toString(16).padStart(8, '0');
  reports.push({ policies: size, compileMs, requests: requests.length, categories, check, cedarParseMs: parseMs, cedarTextKiB: textBytes / 1024, fingerprint });
  if (check.disagreements > 0) {
    failed = true;
    log(`FAIL: ${check.disagreements} of ${check.checked} requests decided differently by sentrail and Cedar at ${size} policies (${check.allowDisagreements} of them allow vs not allow); not timing`);
    break;
  }
  log(`cedar agrees on all ${check.checked} checked requests${check.cedarErrors ? ` (${check.cedarErrors} Cedar evaluation errors, counted as non-matches as in sentrail)` : ''}`);

  // 2. sentrail: warm-up, then ROUNDS rounds of batch percentiles (overall and per category) and a long loop.
  const all = requests.map((g) => g.request);
  const layout = timingLayout(cats, SEED);
  warmUp(set, layout.requests, WARMUP_MS);
  const rounds: { overall: Stats; cat: Record<RequestCategory, Stats | null>; opsPerSec: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const samples = timeBatches(set, layout, SAMPLES);
    const overall = stats(REQUEST_CATEGORIES.flatMap((c) => samples[c]));
    const cat = {} as Record<RequestCategory, Stats | null>;
    for (const c of REQUEST_CATEGORIES) cat[c] = samples[c].length > 0 ? stats(samples[c]) : null;
    const opsPerSec = longLoop(set, all, LONG_LOOP_MS);
    rounds.push({ overall, cat, opsPerSec });
    log(`sentrail round ${round + 1}: ${Math.round(opsPerSec).toLocaleString('en-US')} decisions/s, p50 ${overall.p50.toFixed(3)} µs, p99 ${overall.p99.toFixed(3)} µs`);
  }
  const median = rounds.slice().sort((a, b) => a.overall.p50 - b.overall.p50)[Math.floor(ROUNDS / 2)]!;
  const opsPerSec = rounds.map((r) => r.opsPerSec).sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
  rows.push({ policies: size, engine: 'sentrail', opsPerSec, overall: median.overall, byCategory: median.cat, roundP50s: rounds.map((r) => r.overall.p50) });

  // 3. Cedar: the calls of the agreement check, each timed (after the warm-up above).
  const cedarAllSamples = REQUEST_CATEGORIES.flatMap((c) => check.timings[c]);
  const cedarOverall = stats(cedarAllSamples);
  const cedarOps = cedarAllSamples.length / (cedarAllSamples.reduce((a, b) => a + b, 0) / 1e6);
  const cedarCat = {} as Record<RequestCategory, Stats | null>;
  for (const c of REQUEST_CATEGORIES) cedarCat[c] = check.timings[c].length > 0 ? stats(check.timings[c]) : null;
  rows.push({ policies: size, engine: 'cedar-wasm', opsPerSec: cedarOps, overall: cedarOverall, byCategory: cedarCat });
  log(`cedar-wasm: ${Math.round(cedarOps).toLocaleString('en-US')} decisions/s, p50 ${cedarOverall.p50.toFixed(1)} µs, p99 ${cedarOverall.p99.toFixed(1)} µs (${cedarOverall.samples} calls)`);
  log(`elapsed ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

// ── Output ──────────────────────────────────────────────────────────────────────────────────────

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
function fmtUs(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '—';
  if (n < 10) return n.toFixed(3);
  if (n < 1000) return n.toFixed(1);
  return fmtInt(n);
}

function resultsTable(): string {
  const lines = [
    '| policies | engine | decisions/s | p50 µs | p99 µs | p50 µs early | p50 µs late | p50 µs no-match | p50 µs of each round | target (p50) | result |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---|---|---|',
  ];
  for (const r of rows) {
    const target = r.engine === 'sentrail' ? TARGETS[r.policies] : undefined;
    const verdict = target === undefined ? '' : r.overall.p50 <= target ? '**pass**' : '**FAIL**';
    lines.push(
      `| ${fmtInt(r.policies)} | ${r.engine} | ${fmtInt(r.opsPerSec)} | ${fmtUs(r.overall.p50)} | ${fmtUs(r.overall.p99)} | ` +
        `${fmtUs(r.byCategory.early?.p50)} | ${fmtUs(r.byCategory.late?.p50)} | ${fmtUs(r.byCategory['no-match']?.p50)} | ` +
        `${r.roundP50s ? r.roundP50s.map(fmtUs).join(' / ') : 'one round'} | ` +
        `${target === undefined ? '—' : `≤ ${target} µs`} | ${verdict || '—'} |`,
    );
  }
  return lines.join('\n');
}

function requestTable(): string {
  const lines = [
    '| policies | compile ms | requests: early / late / no-match | decided by Cedar too (and timed): early / late / no-match | disagreements: decision (allow vs not) | Cedar evaluation errors | Cedar pre-parse ms (policy text KiB) | inputs fingerprint |',
    '|---:|---:|---|---|---:|---:|---|---|',
  ];
  for (const r of reports) {
    const c = r.check;
    const checked = `${REQUEST_CATEGORIES.map((k) => fmtInt(c.perCategory[k])).join(' / ')} ${c.capped ? `(capped: first ${CEDAR_CHECK_CAP} of each)` : '(all)'}`;
    lines.push(
      `| ${fmtInt(r.policies)} | ${r.compileMs.toFixed(1)} | ${REQUEST_CATEGORIES.map((k) => fmtInt(r.categories[k])).join(' / ')} | ${checked} | ` +
        `${c.disagreements} (${c.allowDisagreements}) | ${c.cedarErrors} | ${fmtInt(r.cedarParseMs)} (${fmtInt(r.cedarTextKiB)}) | \`${r.fingerprint}\` |`,
    );
  }
  return lines.join('\n');
}

function machine(): string {
  let nproc = String(os.availableParallelism?.() ?? os.cpus().length);
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    // not on every system
  }
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpu}, nproc ${nproc}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()} ${os.arch()}; Node ${process.version}; cedar-wasm ${cedar.getCedarVersion()}`;
}

const command = `npm run bench:policy${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
const totalS = (performance.now() - started) / 1000;
const block = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}.`,
  `Command: \`${command}\` (seed ${SEED}, ${REQUESTS} requests per size); the whole run took ${totalS.toFixed(0)} s.`,
  `Load average (1 min, this run included): ${loadAtStart[0]!.toFixed(2)} at the start, ${os.loadavg()[0]!.toFixed(2)} at the end${Math.max(loadAtStart[0]!, os.loadavg()[0]!) >= 1.5 ? ' (other processes were running: expect noise)' : ''}.`,
  `Timer: an empty ${BATCH}-iteration sample measures ${overheadNs.toFixed(0)} ns, i.e. ${(overheadNs / BATCH).toFixed(2)} ns per decision (not subtracted).`,
  '',
  resultsTable(),
  '',
  requestTable(),
].join('\n');

process.stdout.write(`${block}\n`);
if (failed) {
  process.stderr.write('\nFAILED: the engines disagree (see DISAGREEMENT above); no timing was recorded for that size and README was not written.\n');
  process.exit(1);
}
if (sink === 42) process.stderr.write(''); // keep `sink` observable

if (WRITE) {
  const readme = path.join(path.dirname(fileURLToPath(import.meta.url)), 'README.md');
  const text = readFileSync(readme, 'utf8');
  const start = '<!-- policy-bench:start -->';
  const end = '<!-- policy-bench:end -->';
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a === -1 || b === -1 || b < a) throw new Error(`${readme} lacks the ${start} … ${end} markers`);
  writeFileSync(readme, `${text.slice(0, a + start.length)}\n${block}\n${text.slice(b)}`);
  log(`wrote the tables into ${readme}`);
}
