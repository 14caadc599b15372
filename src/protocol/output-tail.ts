import { MAX_JOB_OUTPUT_BYTES } from './job-protocol.js';

/** The last bytes of a stream (a command's output, a response body), bounded however much arrives. */
export class OutputTail {
  private chunks: Buffer[] = [];
  private kept = 0;
  /** Every byte seen, kept or not. */
  total = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.kept += chunk.length;
    while (this.kept - this.chunks[0]!.length >= this.limit) this.kept -= this.chunks.shift()!.length;
  }

  /** The tail as text; a character the cut split at the start is dropped. */
  text(): string {
    let tail = Buffer.concat(this.chunks);
    if (tail.length > this.limit) {
      tail = tail.subarray(tail.length - this.limit);
      let start = 0;
      while (start < tail.length && start < 4 && (tail[start]! & 0xc0) === 0x80) start++;
      tail = tail.subarray(start);
    }
    return tail.toString('utf8');
  }
}

/** Reads a fetch body into a tail; the caller's signal bounds the time. */
export async function readTail(body: ReadableStream<Uint8Array> | null, limit: number): Promise<OutputTail> {
  const tail = new OutputTail(limit);
  if (!body) return tail;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) tail.push(Buffer.from(chunk));
  return tail;
}

// Control characters the server refuses in text (src/domain/well-formed-text.ts); tab, newline and CR pass.
const REFUSED_CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;

/**
 * A job step's output as its result carries it: the last `limit` bytes of everything appended
 * (the tail explains a failure), as text the job protocol accepts. The agent, the SSH executor
 * and the command hook keep their steps' output in one.
 */
export class JobOutputTail {
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
