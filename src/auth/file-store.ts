// `--insecure-storage`: the token store as plain files, for machines without a keychain, chosen
// explicitly (gh's --insecure-storage). One file per gate + resource, 0600, in a 0700 folder of the
// OS config dir; written atomically (temp file + rename). Anyone who can read your home folder's
// files as you (a backup, a process running as you) can read the credential.
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CliError } from '../cli/errors.ts';
import { gateKey, insecureCredentialsDir } from '../config/paths.ts';
import { accountKey, decodeEntry, encodeEntry, type StoredEntry } from './token-entry.ts';
import type { TokenStore } from './token-store.ts';

export function insecureEntryFile(gate: string, resource: string, dir: string = insecureCredentialsDir()): string {
  return path.join(dir, `${gateKey(accountKey(gate, resource))}.json`);
}

export function createFileTokenStore(dir: string = insecureCredentialsDir()): TokenStore & { fileFor(gate: string, resource: string): string } {
  const fileFor = (gate: string, resource: string) => insecureEntryFile(gate, resource, dir);
  return {
    kind: 'file',
    location: dir,
    fileFor,
    async get(gate, resource) {
      const file = fileFor(gate, resource);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw new CliError('store-unreadable', `cannot read ${file}: ${(err as Error).message}`);
      }
      const decoded = decodeEntry(text);
      if (!decoded.ok) {
        throw new CliError('store-entry-unreadable', `${file} cannot be used: ${decoded.message}`, { hint: `Log in again: sentrail login --gate ${gate} --with-api-key --insecure-storage` });
      }
      // Someone (a copy, an editor) may have widened the file's mode: narrow it again.
      try {
        if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
      } catch {
        // best effort
      }
      return decoded.entry;
    },
    async set(entry: StoredEntry) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
      const file = fileFor(entry.gate, entry.resource);
      const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
      try {
        await writeFile(tmp, encodeEntry(entry) + '\n', { mode: 0o600 });
        await rename(tmp, file);
      } catch (err) {
        await rm(tmp, { force: true });
        throw new CliError('store-unwritable', `cannot write ${file}: ${(err as Error).message}`);
      }
    },
    async delete(gate, resource) {
      const file = fileFor(gate, resource);
      try {
        await rm(file);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw new CliError('store-unwritable', `cannot remove ${file}: ${(err as Error).message}`);
      }
    },
  };
}
