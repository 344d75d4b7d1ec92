// `--upstream "<command ...>"` → argv, without a shell: no variable expansion, globbing, pipes or
// redirections, so what runs is exactly what was typed (and nothing in the line can inject a
// second command). Quotes group words the way a POSIX shell does; a backslash outside single
// quotes escapes only a quote, a backslash before a quote, or whitespace, so Windows paths such as
// C:\tools\server.exe survive unquoted.

export class CommandLineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandLineError';
  }
}

/** Tokens a shell would treat as operators: refused unquoted, since nothing here would run them. */
const SHELL_OPERATOR = /^(?:\||\|\||&|&&|;|<|>|>>|2>|2>&1)$/;

export function splitCommandLine(line: string): string[] {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let quoted = false; // the current word holds quoted text (so "" is an empty argument, and `'|'` is a word)
  let quote: '"' | "'" | null = null;

  const endWord = () => {
    if (!inWord) return;
    if (!quoted && SHELL_OPERATOR.test(word)) {
      throw new CommandLineError(`"${word}" is a shell operator, and --upstream runs its command without a shell; wrap it: sh -c '…'`);
    }
    argv.push(word);
    word = '';
    inWord = false;
    quoted = false;
  };

  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
      else word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
      quoted = true;
    } else if (/\s/.test(c)) {
      endWord();
    } else if (c === '\\' && i + 1 < line.length && /["'\s]/.test(line[i + 1]!)) {
      word += line[++i];
      inWord = true;
      quoted = true;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new CommandLineError(`the command line has an unterminated ${quote === '"' ? 'double' : 'single'} quote`);
  endWord();
  if (argv.length === 0) throw new CommandLineError('the command line is empty');
  return argv;
}
