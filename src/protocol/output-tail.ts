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
