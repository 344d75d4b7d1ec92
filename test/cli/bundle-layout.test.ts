// Start-up time is a feature (Claude Code counts `npx` start-up against its connect timeout): the
// bridge's static module graph in the built bundle must not hold the regex engine (re2js,
// regexpp, ~40 ms to load), which only the lazily loaded policy compiler needs. A value import of
// src/policy/compile.ts from anything the bridge imports statically would pull it in (it did once,
// through decide.ts; src/policy/lookup.ts exists for that reason).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { assertBuilt, ROOT } from '../helpers/cli.ts';

const DIST = path.join(ROOT, 'dist');

/** The files a module loads before running, following static `import … from "./x.js"` only. */
function staticClosure(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\b[^;]*?["'](\.\.?\/[^"']+\.js)["']/gm)) visit(path.join(path.dirname(file), m[1]!));
  };
  entries.forEach(visit);
  return seen;
}

const holdsRegexEngine = (file: string) => /\bRE2Set\b|\bRegExpParser\b/.test(readFileSync(file, 'utf8'));

describe('the bundle: what the bridge loads at start', () => {
  it('the regex engine is in the lazily loaded policy compiler, never in the bridge\'s static graph', () => {
    assertBuilt();
    const chunks = readdirSync(path.join(DIST, 'chunks')).map((f) => path.join(DIST, 'chunks', f));
    const bridgeEntries = chunks.filter((f) => /\/bridge-[A-Z0-9]+\.js$/.test(f));
    assert.ok(bridgeEntries.length > 0, 'no bridge chunk in dist/chunks');
    const bridgeGraph = staticClosure([path.join(DIST, 'cli.js'), ...bridgeEntries]);
    assert.deepEqual([...bridgeGraph].filter(holdsRegexEngine).map((f) => path.relative(DIST, f)), []);
    // …and it is there when policies are compiled (so the check above looks at the right thing).
    const runtime = chunks.filter((f) => /\/policy-runtime-[A-Z0-9]+\.js$/.test(f));
    assert.equal(runtime.length, 1);
    assert.ok([...staticClosure(runtime)].some(holdsRegexEngine), 'the policy compiler does not hold the regex engine');
  });
  it('node:crypto (~6 ms to load) is not in the bridge\'s static graph: the audit writer, which hashes, loads at the first call', () => {
    assertBuilt();
    const chunks = readdirSync(path.join(DIST, 'chunks')).map((f) => path.join(DIST, 'chunks', f));
    const bridgeEntries = chunks.filter((f) => /\/bridge-[A-Z0-9]+\.js$/.test(f));
    const importsCrypto = (file: string) => /^import\b[^;]*?["'](node:)?crypto["']/m.test(readFileSync(file, 'utf8'));
    const bridgeGraph = staticClosure([path.join(DIST, 'cli.js'), ...bridgeEntries]);
    assert.deepEqual([...bridgeGraph].filter(importsCrypto).map((f) => path.relative(DIST, f)), []);
    // …and the check can see it: the gate's chunk imports it.
    assert.ok(chunks.filter((f) => /\/gate-[A-Z0-9]+\.js$/.test(f)).some((f) => [...staticClosure([f])].some(importsCrypto)));
  });
});
