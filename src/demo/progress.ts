// Progress bars for the demo's long phases (cli-progress, on stderr so stdout keeps only
// the report). Disabled, every bar is a no-op.
import cliProgress from 'cli-progress';

export interface Bar {
  update(done: number, total?: number): void;
  stop(): void;
}

const NO_BAR: Bar = { update() {}, stop() {} };

export class Progress {
  private active: cliProgress.SingleBar | undefined;

  constructor(readonly enabled: boolean) {}

  /** A bar from 0 to `total` `unit`, shown until stop(). */
  start(label: string, total: number, unit: string): Bar {
    if (!this.enabled) return NO_BAR;
    this.stopActive();
    const bar = new cliProgress.SingleBar(
      {
        format: `    ${label.padEnd(22)} [{bar}] {value}/{total} ${unit} | {duration_formatted}`,
        barsize: 30,
        hideCursor: true,
        clearOnComplete: false,
        stream: process.stderr,
        fps: 4,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    this.active = bar;
    return {
      update: (done, newTotal) => {
        if (newTotal !== undefined && newTotal !== bar.getTotal()) bar.setTotal(newTotal);
        bar.update(done);
      },
      stop: () => {
        if (this.active === bar) this.stopActive();
      },
    };
  }

  /** Stops whatever bar is running (before a report line, or on an error). */
  stopActive(): void {
    this.active?.stop();
    this.active = undefined;
  }
}
