// Opening a URL in the user's browser, without a shell (the URL is an argument, never parsed by
// one: `&` in a query string must not split a command on Windows).
//   $SENTRAIL_BROWSER, else $BROWSER: a command line; the URL is added as its last argument
//   macOS: open URL · Windows: rundll32 url.dll,FileProtocolHandler URL · elsewhere: xdg-open URL,
//   only with a display (DISPLAY / WAYLAND_DISPLAY): on a headless box nothing could show it.
// canOpenBrowser() says whether trying makes sense, so login can pick the device flow instead.
import { spawn } from 'node:child_process';
import { splitCommandLine } from '../../gate/command-line.ts';

export interface BrowserCommand {
  command: string;
  args: string[];
}

export function browserCommand(url: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): BrowserCommand | null {
  const configured = env.SENTRAIL_BROWSER || env.BROWSER;
  if (configured) {
    const [command, ...args] = splitCommandLine(configured);
    return { command: command!, args: [...args, url] };
  }
  if (platform === 'darwin') return { command: 'open', args: [url] };
  if (platform === 'win32') return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] };
  if (env.DISPLAY || env.WAYLAND_DISPLAY) return { command: 'xdg-open', args: [url] };
  return null;
}

export function canOpenBrowser(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): boolean {
  return browserCommand('about:blank', env, platform) !== null;
}

/** Resolves true once the opener started (it is left running, detached), false when it could not. */
export function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const cmd = browserCommand(url, env);
  if (!cmd) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      const child = spawn(cmd.command, cmd.args, { stdio: 'ignore', detached: true, windowsHide: true, env });
      child.once('error', () => resolve(false));
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}
