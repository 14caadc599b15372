/**
 * Progress lines for long-running commands, on standard error so `--json` output stays clean.
 * On a terminal a counter redraws in place; otherwise one line per step. Messages quote files
 * (warnings name packages), so their control characters are shown escaped.
 */
import { escapeControlCharacters } from './table.js';

export interface Progress {
  /** A step finished or started: printed on its own line. */
  note(message: string): void;
  /** A running count, redrawn in place on a terminal and printed at most every 2 s otherwise. */
  count(label: string, done: number, total?: number): void;
  done(): void;
}

/**
 * @param always print progress even when the stream is not a terminal; false for `--json` runs,
 *   whose scripts and logs want a quiet standard error (a person at a terminal still sees it).
 */
export function createProgress(always = true, stream: NodeJS.WriteStream = process.stderr): Progress {
  const interactive = stream.isTTY === true;
  const enabled = always || interactive;
  let lastPrinted = 0;
  let counting = false;
  return {
    note(message) {
      if (!enabled) return;
      if (counting && interactive) stream.write('\n');
      counting = false;
      stream.write(`${escapeControlCharacters(message)}\n`);
    },
    count(label, done, total) {
      if (!enabled) return;
      const text = escapeControlCharacters(total === undefined ? `${label}: ${done}` : `${label}: ${done}/${total} (${Math.floor((done / Math.max(total, 1)) * 100)}%)`);
      if (interactive) {
        stream.write(`\r${text}`);
        counting = true;
      } else if (Date.now() - lastPrinted >= 2_000 || done === total) {
        stream.write(`${text}\n`);
        lastPrinted = Date.now();
      }
    },
    done() {
      if (enabled && counting && interactive) stream.write('\n');
      counting = false;
    },
  };
}
