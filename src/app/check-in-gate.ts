/**
 * Orders the control plane's writes: check-ins of different hosts run side by side (their database
 * round trips overlap), check-ins of one host run one after another, and an advisory sync runs
 * alone, after the check-ins in flight and before the next ones. Large check-ins also need one of
 * a few slots. (Across processes the advisory lock orders syncs and check-ins; see advisory-store.)
 */
export class CheckInGate {
  private shared = 0;
  private exclusive: Promise<void> | undefined;
  private readonly drained: Array<() => void> = [];
  private readonly perHost = new Map<string, Promise<unknown>>();

  /** Runs a check-in of `host`: concurrent with other hosts', after this host's previous one. */
  forHost<T>(host: string, work: () => Promise<T>): Promise<T> {
    const previous = this.perHost.get(host) ?? Promise.resolve();
    const run = previous.then(() => this.shared_(work), () => this.shared_(work));
    const settled = run.catch(() => undefined);
    this.perHost.set(host, settled);
    void settled.then(() => {
      if (this.perHost.get(host) === settled) this.perHost.delete(host);
    });
    return run;
  }

  /** Runs `work` with no check-in in flight. */
  async alone<T>(work: () => Promise<T>): Promise<T> {
    while (this.exclusive) await this.exclusive;
    let release!: () => void;
    this.exclusive = new Promise<void>((resolve) => (release = resolve));
    try {
      if (this.shared > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
      return await work();
    } finally {
      this.exclusive = undefined;
      release();
    }
  }

  private async shared_<T>(work: () => Promise<T>): Promise<T> {
    while (this.exclusive) await this.exclusive;
    this.shared++;
    try {
      return await work();
    } finally {
      this.shared--;
      if (this.shared === 0) for (const resolve of this.drained.splice(0)) resolve();
    }
  }
}

/**
 * A fixed number of slots for large check-ins (big bodies parsed, thousands of versions resolved
 * and matched): one agent, or a handful, cannot take the server's memory and both cores. A
 * check-in that finds every slot taken is refused at once, not queued: a queue would hold its
 * parsed body in memory while it waits, and the agent retries with backoff anyway.
 */
export class LargeCheckInSlots {
  private taken = 0;

  constructor(readonly slots: number) {}

  /** A release function, or undefined when every slot is taken. */
  tryTake(): (() => void) | undefined {
    if (this.taken >= this.slots) return undefined;
    this.taken++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.taken--;
    };
  }

  get inUse(): number {
    return this.taken;
  }
}
