// Which policy a command runs against (policy.md): `--policy P`; for a test file, its `policy:`,
// else the non-test policy files of its folder; last, the cached org policy of the gate.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { listCachedPolicies, readCachedPolicy } from '../../config/policy-cache.ts';
import { POLICY_FILE, TEST_FILE } from '../../policy/load.ts';
import { CliError } from '../errors.ts';
import { ExitCode } from '../exit-codes.ts';

export interface PolicySource {
  /** A file or folder to load. */
  target: string;
  /** How it was chosen, for messages. */
  origin: 'flag' | 'test-file' | 'folder' | 'cache';
}

export const NO_POLICY_HINT =
  'Pass --policy <file|folder>, put policy files next to your tests, or cache the org policy with `sentrail policy pull --gate <URL>` (the bridge also caches it each time it starts).';

export async function cachedOrgPolicy(gate: string | undefined): Promise<PolicySource> {
  if (gate) {
    const cached = await readCachedPolicy(gate);
    if (cached) return { target: cached.file, origin: 'cache' };
    throw new CliError('no-policy', `no cached org policy for ${gate}`, { exitCode: ExitCode.INVALID_INPUT, hint: NO_POLICY_HINT });
  }
  const all = await listCachedPolicies();
  if (all.length === 1) return { target: all[0]!.file, origin: 'cache' };
  if (all.length === 0) throw new CliError('no-policy', 'no policy given and no cached org policy', { exitCode: ExitCode.INVALID_INPUT, hint: NO_POLICY_HINT });
  throw new CliError('no-policy', `no policy given and ${all.length} gates have a cached org policy`, {
    exitCode: ExitCode.INVALID_INPUT,
    hint: `Pick one with --gate: ${all.map((c) => c.meta.gate).join(', ')}`,
  });
}

export async function folderHasPolicyFiles(folder: string): Promise<boolean> {
  try {
    return (await readdir(folder)).some((n) => POLICY_FILE.test(n) && !TEST_FILE.test(n));
  } catch {
    return false;
  }
}

export async function policyForTestFile(testFile: string, declared: string | undefined, opts: { policy?: string; gate?: string }): Promise<PolicySource> {
  if (opts.policy) return { target: opts.policy, origin: 'flag' };
  if (declared) return { target: path.resolve(path.dirname(testFile), declared), origin: 'test-file' };
  const folder = path.dirname(testFile);
  if (await folderHasPolicyFiles(folder)) return { target: folder, origin: 'folder' };
  return cachedOrgPolicy(opts.gate);
}
