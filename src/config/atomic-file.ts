// Writing a file so that a reader (or a crash) sees the old content or the new, never half: a
// temp file beside the target, then rename (atomic within one folder on every OS we run on).
import { chmod, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function writeFileAtomic(file: string, data: string, opts: { mode?: number } = {}): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const mode = opts.mode ?? 0o600;
    await writeFile(tmp, data, { mode });
    // The umask narrows writeFile's mode; the file gets exactly the one asked for.
    await chmod(tmp, mode);
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}
