/**
 * Coalesces concurrent calls into batches, one batch in flight at a time: a call into an idle
 * batcher is written at once, and the calls made while a batch is being written wait for the next
 * one, written as soon as it ends. Alone a call waits for nothing; under load each statement
 * carries many calls, so a burst of job results or long-poll look-ups costs the database a few
 * statements (and holds one connection), not one statement and one connection each.
 */
export class CallBatcher<Input, Output> {
  private queue: Array<{ input: Input; resolve: (output: Output) => void; reject: (error: unknown) => void }> = [];
  private writing = false;

  /**
   * @param write answers a batch, one output per input in their order; a throw fails the whole batch.
   * @param maxBatch calls per batch at most (the rest wait for the next).
   */
  constructor(
    private readonly write: (inputs: Input[]) => Promise<Output[]>,
    private readonly maxBatch = 200,
  ) {}

  /** @example const recorded = await batcher.call({ host, key, result, at }) */
  call(input: Input): Promise<Output> {
    return new Promise<Output>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const outputs = await this.write(batch.map((call) => call.input));
          for (const [index, call] of batch.entries()) call.resolve(outputs[index]!);
        } catch (error) {
          for (const call of batch) call.reject(error);
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
