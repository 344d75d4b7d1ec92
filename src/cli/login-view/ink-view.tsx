// The login at a terminal, with ink: one live line (a spinner and the current step) under the
// lasting lines of the transcript (transcript.ts).
//
// The lasting lines are written through ink's own write (useStdout().write), which clears the live
// line, writes, and redraws it; they are not ink <Text>. Ink hard-wraps text at the terminal width,
// which would put line breaks into a long URL and break copying it; written raw, the terminal wraps
// it softly and it copies as one line. The live line is truncated, never wrapped, so ink always
// knows how many lines to redraw.
import { render, Box, Text, useStdout } from 'ink';
import Spinner from 'ink-spinner';
import { useLayoutEffect, useRef, useSyncExternalStore } from 'react';

export interface InkViewState {
  /** Text already written out, in order; only appended to. */
  transcript: readonly string[];
  /** The live line, or null when nothing is under way (before the first step, after the end). */
  live: string | null;
}

/** A tiny store the listener writes and the component reads (useSyncExternalStore). */
export function createInkViewStore() {
  let state: InkViewState = { transcript: [], live: null };
  const subscribers = new Set<() => void>();
  return {
    get: () => state,
    subscribe(fn: () => void) {
      subscribers.add(fn);
      return () => subscribers.delete(fn);
    },
    update(change: Partial<InkViewState>) {
      state = { ...state, ...change };
      for (const fn of subscribers) fn();
    },
  };
}
export type InkViewStore = ReturnType<typeof createInkViewStore>;

function LoginProgress({ store, color }: { store: InkViewStore; color: boolean }) {
  const { transcript, live } = useSyncExternalStore(store.subscribe, store.get);
  const { write } = useStdout();
  const written = useRef(0);
  // A layout effect runs in the same commit as the state change, so the transcript is out before
  // close() unmounts.
  useLayoutEffect(() => {
    if (transcript.length === written.current) return;
    write(transcript.slice(written.current).join(''));
    written.current = transcript.length;
  }, [transcript, write]);
  if (live === null) return null;
  return (
    <Box>
      <Text {...(color ? { color: 'cyan' } : {})}>
        <Spinner type="dots" />
      </Text>
      <Text wrap="truncate-end"> {live}</Text>
    </Box>
  );
}

export function renderInkView(opts: { store: InkViewStore; color: boolean; stream: NodeJS.WriteStream; stdin?: NodeJS.ReadStream }) {
  return render(<LoginProgress store={opts.store} color={opts.color} />, {
    stdout: opts.stream,
    stderr: opts.stream,
    ...(opts.stdin ? { stdin: opts.stdin } : {}),
    // Nothing is read from the keyboard: Ctrl-C arrives as SIGINT (interrupt.ts), and the flow's
    // own logs, if any, must not be rerouted.
    exitOnCtrlC: false,
    patchConsole: false,
  });
}
