// Reading a secret from standard input, never from the command line (where `ps` shows it): piped
// (`printenv KEY | sentrail login --with-api-key`), or typed/pasted at a terminal with no echo.

const MAX_BYTES = 64 * 1024;

export async function readSecret(stdin: NodeJS.ReadStream = process.stdin, prompt: NodeJS.WriteStream = process.stderr): Promise<string> {
  if (stdin.isTTY && typeof stdin.setRawMode === 'function') return readHidden(stdin, prompt);
  let text = '';
  for await (const chunk of stdin) {
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    if (text.length > MAX_BYTES) break;
  }
  return text.trim();
}

function readHidden(stdin: NodeJS.ReadStream, prompt: NodeJS.WriteStream): Promise<string> {
  prompt.write('Paste your API key (agk_…) and press Enter (nothing is shown): ');
  return new Promise((resolve, reject) => {
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      prompt.write('\n');
      if (err) reject(err);
      else resolve(value.trim());
    };
    const onData = (s: string) => {
      for (const ch of s) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(Object.assign(new Error('cancelled'), { code: 'cancelled' }));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
