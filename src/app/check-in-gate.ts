/**
 * Orders the control plane's writes: check-ins of different hosts run side by side (their database
 * round trips overlap), check-ins of one host run one after another, and an advisory sync runs
 * alone, after the check-ins in flight and before the next ones.
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
