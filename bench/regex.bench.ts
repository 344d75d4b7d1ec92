// Policy regexes (`conditions.arguments` … `{regex}`): what one test costs with the linear-time
// engine (re2js, src/policy/linear-regex.ts) and with V8's backtracking RegExp that it replaced,
// per pattern family, at 1 KiB and 64 KiB (the largest string a regex is ever tested on).
// Results and how to read them: bench/README.md, "Policy regexes".
//
//   npm run bench:regex              # print the table (progress on stderr)
//   npm run bench:regex -- --write   # …and put it into bench/README.md
//
// V8 runs each case in a child process killed after 2 s, because on the catastrophic families it
// would not finish this century.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { compileAnchoredRegex } from '../src/policy/regex-safety.ts';

const WRITE = process.argv.includes('--write');
const V8_LIMIT_MS = 2000;
const RUNS = 7;

interface Family {
  family: string;
  pattern: string;
  /** The input of `length` characters that is worst for this family. */
  input(length: number): string;
}

const repeatTo = (unit: string, n: number) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
/** Fixed pseudo-random text over `alphabet`, the same on every run. */
function seeded(alphabet: string, n: number): string {
  let a = 1;
  let s = '';
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1103515245) + 12345) >>> 0;
    s += alphabet[(a >>> 16) % alphabet.length];
  }
  return s;
}

const FAMILIES: Family[] = [
  { family: 'realistic: file extension', pattern: '.*\\.(env|pem|key|p12)', input: (n) => repeatTo('src/app/', n - 4) + '.pem' },
  { family: 'realistic: e-mail', pattern: '[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}', input: (n) => repeatTo('ada.lovelace', n - 12) + '@example.org' },
  { family: 'realistic: SQL verb', pattern: '(?:DROP|TRUNCATE|DELETE)\\s.*', input: (n) => 'DROP ' + repeatTo('TABLE x; ', n - 5) },
  { family: 'realistic: repository', pattern: 'acme/[a-z0-9-]+', input: (n) => 'acme/' + repeatTo('a-b', n - 5) },
  { family: 'ambiguous alternation (the attack)', pattern: '(a|aa)*b', input: (n) => 'a'.repeat(n - 1) + '!' },
  { family: 'overlapping quantifiers', pattern: 'a*a*a*a*a*b', input: (n) => 'a'.repeat(n - 1) + '!' },
  { family: 'nested quantifiers (refused at load)', pattern: '(x+x+)+y', input: (n) => 'x'.repeat(n - 1) + '!' },
  { family: 'nested optional (refused at load)', pattern: '(a|a?)+$', input: (n) => 'a'.repeat(n - 1) + '!' },
  { family: 'words and spaces (refused at load)', pattern: '(\\w+\\s?)*$', input: (n) => repeatTo('word ', n - 1) + '!' },
  { family: 'DFA explosion', pattern: '[ab]*a[ab]{20}', input: (n) => seeded('ab', n) },
  { family: 'DFA explosion at the size cap (256)', pattern: '[ab]*a[ab]{254}', input: (n) => seeded('ab', n) },
];

function oursMs(pattern: string, input: string): { ms: number; size: number } {
  const compiled = compileAnchoredRegex(pattern, { policyRules: false });
  if (!compiled.ok) throw new Error(compiled.message);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    compiled.regex.test(input);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(RUNS / 2)]!, size: compiled.size };
}

/** V8's median over RUNS in a child process; null when it was killed at the limit. */
function v8Ms(pattern: string, input: string): number | null {
  const script = `const re = new RegExp('^(?:' + process.env.P + ')$', 'u'); const s = require('fs').readFileSync(0, 'utf8'); const t = [];
for (let i = 0; i < ${RUNS}; i++) { const t0 = performance.now(); re.test(s); t.push(performance.now() - t0); }
t.sort((a, b) => a - b); process.stdout.write(String(t[${Math.floor(RUNS / 2)}]));`;
  const r = spawnSync(process.execPath, ['-e', script], { input, env: { ...process.env, P: pattern }, timeout: V8_LIMIT_MS, encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout) : null;
}

const fmt = (ms: number | null) => (ms === null ? `> ${V8_LIMIT_MS.toLocaleString('en')} (killed)` : ms < 0.01 ? '< 0.01' : ms.toFixed(2));

const rows: string[] = [];
for (const f of FAMILIES) {
  const cells: string[] = [];
  let size = 0;
  for (const n of [1024, 64 * 1024]) {
    const input = f.input(n);
    const ours = oursMs(f.pattern, input);
    size = ours.size;
    const v8 = v8Ms(f.pattern, input);
    cells.push(fmt(ours.ms), fmt(v8));
    process.stderr.write(`${f.family} @ ${n}: ${fmt(ours.ms)} ms (V8 ${fmt(v8)})\n`);
  }
  rows.push(`| ${f.family} | \`${f.pattern.replace(/\|/g, '\\|')}\` | ${size} | ${cells.join(' | ')} |`);
}

const load = os.loadavg()[0]!.toFixed(2);
const table = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus()[0]?.model.trim()}, nproc ${os.availableParallelism()}; Node ${process.version}. Command: \`npm run bench:regex -- --write\`. Load average (1 min) at the end: ${load}.`,
  `Each cell: the median of ${RUNS} tests of one string, in ms (V8: in a child process killed after ${V8_LIMIT_MS / 1000} s).`,
  '',
  '| family | pattern | size | 1 KiB: sentrail | 1 KiB: V8 RegExp | 64 KiB: sentrail | 64 KiB: V8 RegExp |',
  '|---|---|---:|---:|---:|---:|---:|',
  ...rows,
].join('\n');
process.stdout.write(table + '\n');

if (WRITE) {
  const readme = fileURLToPath(new URL('./README.md', import.meta.url));
  const text = readFileSync(readme, 'utf8');
  const start = '<!-- regex-bench:start -->';
  const end = '<!-- regex-bench:end -->';
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < 0) throw new Error(`bench/README.md has no ${start} … ${end} block`);
  writeFileSync(readme, text.slice(0, from + start.length) + '\n' + table + '\n' + text.slice(to));
}
