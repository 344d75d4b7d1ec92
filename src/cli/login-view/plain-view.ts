// The login without a terminal (or under CI): one line per step and the transcript's lines, no
// spinner, colour only when asked for. Repeated identical step lines are written once.
import type { LoginEvent } from '../../auth/oauth/login-events.ts';
import type { CliError } from '../errors.ts';
import { stepText } from './step-text.ts';
import { blockText, eventBlock, failureBlock, type Palette, type TranscriptBlock } from './transcript.ts';
import type { ViewRenderer } from './renderer.ts';

export function createPlainView(stream: NodeJS.WritableStream, palette: Palette): ViewRenderer {
  let first = true;
  let lastStep: string | null = null;
  const write = (block: TranscriptBlock) => {
    stream.write(blockText(block, first));
    first = false;
  };
  return {
    event(event: LoginEvent) {
      if (event.type === 'step') {
        const text = stepText(event.step, event.detail);
        if (text !== lastStep) write({ lines: [text], standsOut: false });
        lastStep = text;
        return;
      }
      const block = eventBlock(event, palette);
      if (block) write(block);
    },
    cancelling() {
      write({ lines: ['Cancelling…'], standsOut: false });
    },
    fail(error: CliError | Error) {
      write(failureBlock(error, palette));
    },
    async close() {},
  };
}
