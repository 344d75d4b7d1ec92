// `sentrail login --json` as a running process a test plays along with: it waits for the events
// login prints (JSON lines on stdout: the authorization URL, the device code), acts on them (a
// browser, a forged callback), and then times how long login takes to end after that.
import { spawn, type ChildProcess } from 'node:child_process';
import { assertBuilt, BIN, ROOT } from './cli.ts';
import { outputs } from './user-session.ts';

export interface LoginEventLine {
  type: string;
  [k: string]: unknown;
}

export interface LoginProcess {
  child: ChildProcess;
  events: LoginEventLine[];
  stderr(): string;
  /** The first event of this type (waits for it). */
  event(type: string, timeoutMs?: number): Promise<LoginEventLine>;
  /** Resolves at exit: the code, and when it happened (performance.now()). */
  exited: Promise<{ code: number | null; at: number }>;
}

export function startLogin(args: string[], env: NodeJS.ProcessEnv): LoginProcess {
  assertBuilt();
  const child = spawn(process.execPath, [BIN, 'login', '--json', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: LoginEventLine[] = [];
  const waiters: (() => void)[] = [];
  let stdout = '';
  let stderr = '';
  let buffer = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    buffer += d;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim()) events.push(JSON.parse(line) as LoginEventLine);
    }
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.once('exit', (code) => {
      const at = performance.now();
      outputs.push({ what: `sentrail login ${args.join(' ')} (stdout)`, text: stdout }, { what: `sentrail login ${args.join(' ')} (stderr)`, text: stderr });
      for (const w of waiters.splice(0)) w();
      resolve({ code, at });
    }),
  );
  let ended = false;
  void exited.then(() => (ended = true));
  return {
    child,
    events,
    stderr: () => stderr,
    exited,
    async event(type, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find((e) => e.type === type);
        if (found) return found;
        if (ended) throw new Error(`login ended without a "${type}" event:\nstdout: ${stdout}\nstderr: ${stderr}`);
        if (Date.now() > deadline) throw new Error(`no "${type}" event within ${timeoutMs} ms:\nstdout: ${stdout}\nstderr: ${stderr}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
  };
}
