/** Every timer the emulator sets (delivery retries, delayed duplicates, injected latency) goes through one
 * scheduler, so `reset` and `close()` can cancel them all and a test process exits without dangling handles. */
export class Scheduler {
  private readonly timers = new Set<NodeJS.Timeout>();

  after(delayMs: number, task: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      task();
    }, Math.max(0, delayMs));
    this.timers.add(timer);
  }

  /** Resolves after `delayMs`, or never when the scheduler is cancelled first. */
  sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => this.after(delayMs, resolve));
  }

  cancelAll(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
