/**
 * A step's short human log (what was cordoned, evicted, retried): each line goes to the worker's
 * log as it happens, and the result's output keeps the latest lines that fit MAX_JOB_OUTPUT_BYTES.
 */
import { printableText } from '../../domain/well-formed-text.js';
import { MAX_JOB_OUTPUT_BYTES } from '../../protocol/job-protocol.js';

export class StepLog {
  private readonly lines: string[] = [];
  private bytes = 0;

  constructor(private readonly forward: (message: string) => void) {}

  /** API messages are quoted in lines, so what the server refuses in text is escaped. */
  line(message: string): void {
    const line = boundedText(message, 1024);
    this.forward(line);
    this.lines.push(line);
    this.bytes += Buffer.byteLength(line) + 1;
    while (this.bytes > MAX_JOB_OUTPUT_BYTES) this.bytes -= Buffer.byteLength(this.lines.shift()!) + 1;
  }

  text(): string {
    return this.lines.join('\n');
  }
}

/**
 * `text` as the job protocol takes it: what its text rule refuses escaped (API messages are
 * quoted), cut to at most `max` UTF-16 units, marked where it was cut, never inside a surrogate pair.
 */
export function boundedText(value: string, max: number): string {
  const text = printableText(value);
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text[max - 2]!) ? max - 2 : max - 1;
  return `${text.slice(0, end)}…`;
}
