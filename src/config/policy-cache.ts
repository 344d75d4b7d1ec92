// The cached org policy, kept per gate: `<key>.json` is the document exactly as the gate served it
// (so it loads like any policy file and its line numbers mean something), `<key>.meta.json` says
// where and when it came from. The bridge writes it (atomically); the policy commands read it.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';
import { gateKey, policyCacheDir } from './paths.ts';

export interface CachedPolicyMeta {
  gate: string;
  etag: string | null;
  fetchedAt: string;
  maxAgeSeconds: number | null;
  version: string | null;
}

export interface CachedPolicy {
  file: string;
  meta: CachedPolicyMeta;
}

export function cachedPolicyFile(gate: string): string {
  return path.join(policyCacheDir(), `${gateKey(gate)}.json`);
}

export async function readCachedPolicy(gate: string): Promise<CachedPolicy | null> {
  const file = cachedPolicyFile(gate);
  try {
    const meta = JSON.parse(await readFile(file.replace(/\.json$/, '.meta.json'), 'utf8')) as CachedPolicyMeta;
    await readFile(file);
    return { file, meta };
  } catch {
    return null;
  }
}

export async function listCachedPolicies(): Promise<CachedPolicy[]> {
  let names: string[];
  try {
    names = await readdir(policyCacheDir());
  } catch {
    return [];
  }
  const out: CachedPolicy[] = [];
  for (const name of names.filter((n) => n.endsWith('.meta.json'))) {
    try {
      const meta = JSON.parse(await readFile(path.join(policyCacheDir(), name), 'utf8')) as CachedPolicyMeta;
      out.push({ file: path.join(policyCacheDir(), name.replace(/\.meta\.json$/, '.json')), meta });
    } catch {
      // a torn or foreign file: not ours to use
    }
  }
  return out;
}


export async function writeCachedPolicy(gate: string, documentText: string, meta: Omit<CachedPolicyMeta, 'gate'>): Promise<CachedPolicy> {
  await mkdir(policyCacheDir(), { recursive: true, mode: 0o700 });
  const file = cachedPolicyFile(gate);
  const full: CachedPolicyMeta = { gate, ...meta };
  // Document first, then its meta: a reader that finds the meta always finds a whole document.
  await writeFileAtomic(file, documentText);
  await writeFileAtomic(file.replace(/\.json$/, '.meta.json'), JSON.stringify(full, null, 2) + '\n');
  return { file, meta: full };
}
