// The project a command is run in: the nearest folder up with `.git` (where Claude Code looks for
// `.mcp.json`), else the working folder.
import { stat } from 'node:fs/promises';
import path from 'node:path';

export async function findProjectRoot(from: string = process.cwd()): Promise<string> {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (await stat(path.join(dir, '.git')).then(() => true, () => false)) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from);
  }
}
