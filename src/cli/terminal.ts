// What the terminal can show: colour only on a TTY, never with NO_COLOR or machine output.
import { Chalk, type ChalkInstance } from 'chalk';

export interface Terminal {
  color: ChalkInstance;
  isTTY: boolean;
}

export function createTerminal(stream: NodeJS.WriteStream, opts: { machineOutput?: boolean } = {}): Terminal {
  const noColor = 'NO_COLOR' in process.env && process.env.NO_COLOR !== '';
  const forced = process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0';
  const isTTY = Boolean(stream.isTTY);
  const level = opts.machineOutput || noColor ? 0 : forced || isTTY ? 1 : 0;
  return { color: new Chalk({ level }), isTTY };
}
