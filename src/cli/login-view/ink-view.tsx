// The login at a terminal, with ink: one live line (a spinner and the current step) under the
// lasting lines of the transcript (transcript.ts).
//
// The lasting lines are written through ink's own write (useStdout().write), which clears the live
// line, writes, and redraws it; they are not ink <Text>. Ink hard-wraps text at the terminal width,
// which would put line breaks into a long URL and break copying it; written raw, the terminal wraps
// it softly and it copies as one line. The live line is truncated, never wrapped, so ink always
// knows how many lines to redraw.
//
// The component is driven by props through instance.rerender(), which renders synchronously (ink's
// legacy root): each transcript line is out when the listener returns, so a failure shown just
// before close() is never lost to an update still pending at unmount.
import { render, Box, Text, useStdout, type Instance } from 'ink';
import Spinner from 'ink-spinner';
import { useLayoutEffect, useRef } from 'react';

export interface InkViewState {
  /** Text to write out, in order; only ever appended to. */
  transcript: readonly string[];
  /** The live line, or null when nothing is under way (before the first step, after the end). */
  live: string | null;
}

function LoginProgress({ transcript, live, color }: InkViewState & { color: boolean }) {
  const { write } = useStdout();
  const written = useRef(0);
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

export interface InkView {
  show(state: InkViewState): void;
  /** Unmounts (ink shows the cursor again); call after a show() with `live: null`. */
  close(): Promise<void>;
}

export function renderInkView(opts: { color: boolean; stream: NodeJS.WriteStream; stdin?: NodeJS.ReadStream }): InkView {
  const element = (state: InkViewState) => <LoginProgress {...state} color={opts.color} />;
  const instance: Instance = render(element({ transcript: [], live: null }), {
    stdout: opts.stream,
    stderr: opts.stream,
    ...(opts.stdin ? { stdin: opts.stdin } : {}),
    // Nothing is read from the keyboard: Ctrl-C arrives as SIGINT (interrupt.ts), and the flow's
    // own logs, if any, must not be rerouted.
    exitOnCtrlC: false,
    patchConsole: false,
  });
  return {
    show: (state) => instance.rerender(element(state)),
    async close() {
      instance.unmount();
      await instance.waitUntilExit();
      // Ink's last frame is empty (no live line) but still ends with a newline, a blank line under
      // the transcript; step back onto it so the shell's prompt comes right after the last line.
      opts.stream.write('\u001B[1A');
    },
  };
}
