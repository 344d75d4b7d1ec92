// The ink mode as a ViewRenderer: steps become the live line, other events transcript text; the
// end (done, failure) clears the live line, and close() unmounts ink.
import type { CliError } from '../errors.ts';
import { renderInkView, type InkViewState } from './ink-view.tsx';
import type { ViewRenderer } from './renderer.ts';
import { stepText } from './step-text.ts';
import { blockText, eventBlock, failureBlock, type Palette, type TranscriptBlock } from './transcript.ts';

export function createInkRenderer(opts: { stream: NodeJS.WriteStream; stdin?: NodeJS.ReadStream; color: boolean; palette: Palette }): ViewRenderer {
  const view = renderInkView({ color: opts.color, stream: opts.stream, ...(opts.stdin ? { stdin: opts.stdin } : {}) });
  let state: InkViewState = { transcript: [], live: null };
  const show = (change: Partial<InkViewState>) => {
    state = { ...state, ...change };
    view.show(state);
  };
  const append = (block: TranscriptBlock, change: Partial<InkViewState> = {}) =>
    show({ transcript: [...state.transcript, blockText(block, state.transcript.length === 0)], ...change });
  return {
    event(event) {
      if (event.type === 'step') return show({ live: stepText(event.step, event.detail) });
      const block = eventBlock(event, opts.palette);
      if (block) append(block, event.type === 'done' ? { live: null } : {});
    },
    cancelling() {
      show({ live: 'Cancelling…' });
    },
    fail(error: CliError | Error) {
      append(failureBlock(error, opts.palette), { live: null });
    },
    async close() {
      show({ live: null });
      await view.close();
    },
  };
}
