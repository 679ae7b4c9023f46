// Progress output of dt.fit: on a TTY a bar per epoch, redrawn in place at most ~10 times a
// second (loss, metrics, samples/s, ETA); elsewhere (CI, pipes, files) one plain line per epoch.
export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export type Verbosity = 'auto' | 'bar' | 'lines' | 'silent' | 0 | 1 | 2;

/** 'bar', 'lines' or 'silent' for a verbosity setting (Keras numbers: 0 silent, 1 bar, 2 lines). */
export function resolveVerbosity(v: Verbosity | undefined, stream: OutputStream): 'bar' | 'lines' | 'silent' {
  if (v === 0 || v === 'silent') return 'silent';
  if (v === 2 || v === 'lines') return 'lines';
  if (v === 1 || v === 'bar') return stream.isTTY ? 'bar' : 'lines';
  return stream.isTTY ? 'bar' : 'lines';
}

/** 4 significant decimals for small values, fewer digits for large ones. */
export function fmtValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return v.toFixed(4);
}

export function fmtDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)}s`;
  const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
  if (m < 60) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function fmtLogs(logs: Record<string, unknown>, sep: string): string {
  return Object.entries(logs)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `${k} ${k === 'lr' ? (v as number).toPrecision(3) : fmtValue(v as number)}`)
    .join(sep);
}

export class EpochProgress {
  private lastDraw = 0;
  private readonly start = performance.now();
  constructor(
    private readonly stream: OutputStream,
    private readonly mode: 'bar' | 'lines' | 'silent',
    private readonly epoch: number,
    private readonly epochs: number,
    private readonly steps: number | null,
  ) {}

  private head(): string {
    const w = String(this.epochs).length;
    return `Epoch ${String(this.epoch).padStart(w)}/${this.epochs}`;
  }

  /** After each step: redraws the bar when enough time has passed. */
  update(step: number, samples: number, logs: Record<string, unknown>): void {
    if (this.mode !== 'bar') return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && step !== this.steps) return;
    this.lastDraw = now;
    const elapsed = (now - this.start) / 1000;
    const rate = samples / Math.max(elapsed, 1e-9);
    const parts = [this.head()];
    if (this.steps !== null) {
      const width = 24;
      const done = Math.min(width, Math.floor((step / this.steps) * width));
      parts.push(`[${'='.repeat(done)}${done < width ? '>' : ''}${'.'.repeat(Math.max(0, width - done - 1))}]`);
      parts.push(`${String(step).padStart(String(this.steps).length)}/${this.steps}`);
    } else parts.push(`step ${step}`);
    parts.push(fmtLogs(logs, '  '));
    parts.push(`${Math.round(rate)} samples/s`);
    if (this.steps !== null && step < this.steps) parts.push(`ETA ${fmtDuration(((this.steps - step) * elapsed) / step)}`);
    let line = parts.filter(Boolean).join('  ');
    const cols = this.stream.columns;
    if (cols && line.length > cols - 1) line = line.slice(0, cols - 1);
    this.stream.write(`\r\x1b[2K${line}`);
  }

  /** At the end of the epoch: the finished bar (TTY) or the epoch's one line. */
  finish(steps: number, samples: number, logs: Record<string, unknown>): void {
    if (this.mode === 'silent') return;
    const elapsed = (performance.now() - this.start) / 1000;
    const rate = samples / Math.max(elapsed, 1e-9);
    if (this.mode === 'bar') {
      const line = [this.head(), `[${'='.repeat(24)}]`, `${steps}/${steps}`, fmtLogs(logs, '  '), fmtDuration(elapsed), `${Math.round(rate)} samples/s`].join('  ');
      this.stream.write(`\r\x1b[2K${line}\n`);
    } else {
      this.stream.write(`${[`${this.head()}`, `${steps} steps`, fmtDuration(elapsed), `${Math.round(rate)} samples/s`, fmtLogs(logs, ' - ')].join(' - ')}\n`);
    }
  }
}
