// History: what dt.fit returns (Keras's History): the epoch numbers and, per key, one value
// per epoch ('loss', 'accuracy', 'valLoss', 'valAccuracy', 'lr', ...), plus plots of them.
import * as fs from 'fs';
import * as path from 'path';
import { describe, fail } from '../errors';
import { renderSvg, renderPng, plotPanels, type PlotOptions } from './plot';

export class History {
  /** Epoch numbers, from 1. */
  readonly epoch: number[] = [];
  /** key -> one value per recorded epoch (NaN where an epoch lacked the key). */
  readonly history: Record<string, number[]> = {};
  /** What the run was: epochs, stepsPerEpoch, batchSize, ... */
  params: Record<string, unknown> = {};

  /** Appends one epoch's logs (numbers only). */
  record(epoch: number, logs: Record<string, unknown>): void {
    const n = this.epoch.length;
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) {
      if (typeof v !== 'number') continue;
      if (!(k in this.history)) this.history[k] = new Array(n).fill(NaN);
      this.history[k].push(v);
    }
    for (const values of Object.values(this.history)) if (values.length < n + 1) values.push(NaN);
  }

  get length(): number {
    return this.epoch.length;
  }
  keys(): string[] {
    return Object.keys(this.history);
  }
  get(key: string): number[] {
    const v = this.history[key];
    if (v === undefined) fail('ERR_ARGUMENT', 'History.get', `a key among ${this.keys().join(', ') || '(none recorded)'}`, JSON.stringify(key));
    return v.slice();
  }
  /** The last epoch's value of key. */
  last(key: string): number {
    const v = this.get(key);
    return v[v.length - 1];
  }
  /** { epoch, value } of the best epoch for key ('min' unless the key is an accuracy). */
  best(key: string, mode: 'min' | 'max' | 'auto' = 'auto'): { epoch: number; value: number } {
    const v = this.get(key);
    const m = mode === 'auto' ? defaultMode(key) : mode;
    let bi = -1;
    v.forEach((x, i) => {
      if (Number.isNaN(x)) return;
      if (bi < 0 || (m === 'min' ? x < v[bi] : x > v[bi])) bi = i;
    });
    return bi < 0 ? { epoch: NaN, value: NaN } : { epoch: this.epoch[bi], value: v[bi] };
  }

  toJSON(): { epoch: number[]; history: Record<string, number[]>; params: Record<string, unknown> } {
    return { epoch: this.epoch.slice(), history: Object.fromEntries(Object.entries(this.history).map(([k, v]) => [k, v.slice()])), params: this.params };
  }

  /** One row per epoch: `epoch,loss,accuracy,...`. */
  toCSV(): string {
    const keys = this.keys();
    const rows = this.epoch.map((e, i) => [e, ...keys.map((k) => this.history[k][i])].join(','));
    return [['epoch', ...keys].join(','), ...rows].join('\n') + '\n';
  }

  /** The training curves as an SVG document: one panel per quantity, train vs validation. */
  toSVG(options: PlotOptions = {}): string {
    return renderSvg(plotPanels(this, options), options);
  }
  /** The same plot rasterised as PNG bytes. */
  toPNG(options: PlotOptions = {}): Buffer {
    return renderPng(plotPanels(this, options), options);
  }

  /** Writes the plot to `file`: PNG when it ends in .png, SVG otherwise. Returns the path. */
  plot(file: string, options: PlotOptions = {}): string {
    if (typeof file !== 'string' || file === '') fail('ERR_ARGUMENT', 'History.plot', 'a file path', describe(file));
    const png = path.extname(file).toLowerCase() === '.png';
    fs.writeFileSync(file, png ? this.toPNG(options) : this.toSVG(options));
    return file;
  }
}

/** 'max' for keys that grow when the model improves (accuracies), 'min' otherwise. */
export function defaultMode(key: string): 'min' | 'max' {
  return /acc|top\d|auc|precision|recall|f1|iou|dice/i.test(key) ? 'max' : 'min';
}
