// The admin key a local gate generated, left for `sentrail approvals` on the same machine: one
// 0600 file per port in the gate's state folder (`admin-keys/port-7391.json`), written atomically
// (temp + rename), removed when the gate stops. Per port, since a loopback gate is known by its
// port whatever the host is called (127.0.0.1, localhost, ::1). A key given with --admin-key or
// SENTRAIL_ADMIN_KEY is the user's own and is not written anywhere.
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gateStateDir } from './paths.ts';

export interface AdminKeyFile {
  /** The gate's base `C`, as it named itself. */
  gate: string;
  adminKey: string;
  pid: number;
  writtenAt: string;
}

export function adminKeyFile(port: number | string, stateDir: string = gateStateDir()): string {
  return path.join(stateDir, 'admin-keys', `port-${port}.json`);
}

export async function writeAdminKeyFile(file: string, content: AdminKeyFile): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ schema: 1, ...content }, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
}

/** The file's content, or null when there is none (or it is not one of ours). */
export async function readAdminKeyFile(file: string): Promise<AdminKeyFile | null> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return null;
  }
  const o = raw as Partial<AdminKeyFile> | null;
  if (!o || typeof o.adminKey !== 'string' || typeof o.gate !== 'string') return null;
  return { gate: o.gate, adminKey: o.adminKey, pid: typeof o.pid === 'number' ? o.pid : 0, writtenAt: typeof o.writtenAt === 'string' ? o.writtenAt : '' };
}

export async function removeAdminKeyFile(file: string): Promise<void> {
  await rm(file, { force: true });
}
