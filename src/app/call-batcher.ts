/**
 * Coalesces concurrent calls into batches, a few batches in flight at a time (one by default): a
 * call into a batcher with room is written at once, and the calls made while every batch in
 * flight is being written wait for the next one, written as soon as one ends. Alone a call waits
 * for nothing; under load each statement carries many calls, so a burst of job results or
 * long-poll look-ups costs the database a few statements (and holds few connections), not one
 * statement and one connection each.
 */
export class CallBatcher<Input, Output> {
  private queue: Array<{ input: Input; resolve: (output: Output) => void; reject: (error: unknown) => void }> = [];
  private inFlight = 0;

  /**
   * @param write answers a batch, one output per input in their order; a throw fails the whole batch.
   * @param maxBatch calls per batch at most (the rest wait for the next).
   * @param maxInFlight batches written at once at most.
   */
  constructor(
    private readonly write: (inputs: Input[]) => Promise<Output[]>,
    private readonly maxBatch = 200,
    private readonly maxInFlight = 1,
  ) {}

  /** @example const recorded = await batcher.call({ host, key, result, at }) */
  call(input: Input): Promise<Output> {
    return new Promise<Output>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      this.inFlight++;
      void this.writeBatch(this.queue.splice(0, this.maxBatch));
    }
  }

  private async writeBatch(batch: typeof this.queue): Promise<void> {
    try {
      const outputs = await this.write(batch.map((call) => call.input));
      for (const [index, call] of batch.entries()) call.resolve(outputs[index]!);
    } catch (error) {
      for (const call of batch) call.reject(error);
    } finally {
      this.inFlight--;
      this.drain();
    }
  }
}
