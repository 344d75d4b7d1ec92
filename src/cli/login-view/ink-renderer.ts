// The ink mode as a ViewRenderer: events become the live line (steps) or transcript text; the end
// (done, failure) clears the live line, and close() unmounts ink, which shows the cursor again.
import type { CliError } from '../errors.ts';
import { renderInkView, createInkViewStore } from './ink-view.tsx';
import type { ViewRenderer } from './renderer.ts';
import { stepText } from './step-text.ts';
import { blockText, eventBlock, failureBlock, type Palette, type TranscriptBlock } from './transcript.ts';

export function createInkRenderer(opts: { stream: NodeJS.WriteStream; stdin?: NodeJS.ReadStream; color: boolean; palette: Palette }): ViewRenderer {
  const store = createInkViewStore();
  const instance = renderInkView({ store, color: opts.color, stream: opts.stream, ...(opts.stdin ? { stdin: opts.stdin } : {}) });
  const append = (block: TranscriptBlock, live?: string | null) => {
    const { transcript } = store.get();
    store.update({ transcript: [...transcript, blockText(block, transcript.length === 0)], ...(live === undefined ? {} : { live }) });
  };
  return {
    event(event) {
      if (event.type === 'step') return store.update({ live: stepText(event.step, event.detail) });
      const block = eventBlock(event, opts.palette);
      if (block) append(block, event.type === 'done' ? null : undefined);
    },
    cancelling() {
      store.update({ live: 'Cancelling…' });
    },
    fail(error: CliError | Error) {
      append(failureBlock(error, opts.palette), null);
    },
    async close() {
      store.update({ live: null });
      instance.unmount();
      await instance.waitUntilExit();
    },
  };
}
