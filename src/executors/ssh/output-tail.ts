import { MAX_JOB_OUTPUT_BYTES } from '../../protocol/job-protocol.js';

// Control characters the server refuses in text (src/domain/well-formed-text.ts); tab, newline and CR pass.
const REFUSED_CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;

/** The last `limit` bytes of everything appended (a step's output: the tail explains a failure), as text the server accepts. */
export class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit = MAX_JOB_OUTPUT_BYTES) {}

  append(chunk: Buffer | string): void {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.chunks.push(buffer);
    this.size += buffer.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.limit) this.size -= this.chunks.shift()!.length;
  }

  text(): string {
    const cleaned = Buffer.from(Buffer.concat(this.chunks).toString('utf8').replace(REFUSED_CONTROL, '?'));
    if (cleaned.length <= this.limit) return cleaned.toString('utf8');
    // Start on a character boundary: skip UTF-8 continuation bytes.
    let start = cleaned.length - this.limit;
    while (start < cleaned.length && (cleaned[start]! & 0xc0) === 0x80) start++;
    return cleaned.subarray(start).toString('utf8');
  }
}
