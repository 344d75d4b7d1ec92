// `sentrail init` at a terminal without --gate: two ink prompts, the gate URL (prefilled with the
// default gate of `sentrail login`) and the scope (arrow keys). Loaded only then: ink and React stay
// off every other path. Ctrl-C or Esc cancels (nothing is written).
import { render, Box, Text, useApp, useInput } from 'ink';
import { useRef, useState } from 'react';

export interface InitAnswers {
  gate: string;
  scope: 'project' | 'user' | 'local';
}

const SCOPES: { value: InitAnswers['scope']; label: string }[] = [
  { value: 'project', label: 'project: .mcp.json at the repository root, shared with the team' },
  { value: 'user', label: 'user: every project of yours (prints the claude mcp add line)' },
  { value: 'local', label: 'local: this project, only you (prints the claude mcp add line)' },
];

function InitPrompt({ initialGate, check, done }: { initialGate: string; check: (gate: string) => string | null; done: (a: InitAnswers | null) => void }) {
  const { exit } = useApp();
  const [step, setStepState] = useState<'gate' | 'scope'>('gate');
  const setStep = (next: 'gate' | 'scope') => {
    stepRef.current = next;
    setStepState(next);
  };
  const [gate, setGateState] = useState(initialGate);
  // Keys can arrive faster than renders (a paste, then Enter): the handler reads the ref, not the render's value.
  const gateRef = useRef(initialGate);
  const setGate = (change: (g: string) => string) => {
    gateRef.current = change(gateRef.current);
    setGateState(gateRef.current);
  };
  const stepRef = useRef<'gate' | 'scope'>('gate');
  const choiceRef = useRef(0);
  const [problem, setProblem] = useState<string | null>(null);
  const [choice, setChoiceState] = useState(0);
  const setChoice = (change: (c: number) => number) => {
    choiceRef.current = change(choiceRef.current);
    setChoiceState(choiceRef.current);
  };
  useInput((input, key) => {
    if (key.escape || (key.ctrl && input === 'c')) {
      done(null);
      return exit();
    }
    if (stepRef.current === 'gate') {
      if (key.return) {
        const why = check(gateRef.current.trim());
        if (why) return setProblem(why);
        setProblem(null);
        return setStep('scope');
      }
      if (key.backspace || key.delete) return setGate((g) => g.slice(0, -1));
      if (input && !key.ctrl && !key.meta) setGate((g) => g + input.replace(/[\r\n]/g, ''));
      return;
    }
    if (key.upArrow || key.leftArrow) return setChoice((c) => (c + SCOPES.length - 1) % SCOPES.length);
    if (key.downArrow || key.rightArrow || key.tab) return setChoice((c) => (c + 1) % SCOPES.length);
    if (key.return) {
      done({ gate: gateRef.current.trim(), scope: SCOPES[choiceRef.current]!.value });
      exit();
    }
  });
  return (
    <Box flexDirection="column">
      <Text>
        <Text color="cyan">? </Text>Gate URL: {step === 'gate' ? <Text>{gate}<Text inverse> </Text></Text> : <Text color="green">{gate}</Text>}
      </Text>
      {problem ? <Text color="red">  {problem}</Text> : null}
      {step === 'scope' ? (
        <Box flexDirection="column">
          <Text>
            <Text color="cyan">? </Text>Scope (↑/↓, Enter):
          </Text>
          {SCOPES.map((s, i) => (
            <Text key={s.value} {...(i === choice ? { color: 'cyan' } : {})}>
              {i === choice ? '› ' : '  '}
              {s.label}
            </Text>
          ))}
        </Box>
      ) : null}
    </Box>
  );
}

/** Asks; null when the person cancelled. `check` says what is wrong with a URL, or null. */
export async function askInit(opts: { initialGate: string; check: (gate: string) => string | null; stdout: NodeJS.WriteStream; stdin: NodeJS.ReadStream }): Promise<InitAnswers | null> {
  let answers: InitAnswers | null = null;
  const app = render(<InitPrompt initialGate={opts.initialGate} check={opts.check} done={(a) => (answers = a)} />, { stdout: opts.stdout, stdin: opts.stdin, exitOnCtrlC: false, patchConsole: false });
  await app.waitUntilExit();
  return answers;
}
