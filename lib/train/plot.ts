// Training-curve plots without a dependency: the layout is computed once as a list of drawing
// primitives (lines, polylines, markers, text), then written either as SVG text or rasterised
// into an RGB buffer (anti-aliased strokes, a 5x7 bitmap font) and encoded as PNG.
import { encodePng } from '../utils/png';

export interface PlotOptions {
  /** Keys to plot (default: every key without the 'val' prefix, with its 'val' twin). */
  keys?: string[];
  /** Panel size in pixels (default 420 x 300). */
  panelWidth?: number;
  panelHeight?: number;
  /** Panels per row (default up to 3). */
  columns?: number;
  title?: string;
}

export interface Series {
  label: string;
  epochs: number[];
  values: number[];
  color: string;
  dashed: boolean;
}
export interface Panel {
  title: string;
  series: Series[];
}

const TRAIN_COLOR = '#1f77b4';
const VAL_COLOR = '#ff7f0e';

export function valKey(key: string): string {
  return `val${key[0].toUpperCase()}${key.slice(1)}`;
}

/** One panel per base key ('loss', 'accuracy', ...) with its train and validation series. */
export function plotPanels(h: { epoch: number[]; history: Record<string, number[]> }, options: PlotOptions = {}): Panel[] {
  const all = Object.keys(h.history);
  const isVal = (k: string) => /^val[A-Z]/.test(k);
  let keys = options.keys ?? all.filter((k) => !isVal(k));
  if (!options.keys) {
    // A constant learning rate is not worth a panel.
    keys = keys.filter((k) => k !== 'lr' || new Set(h.history.lr).size > 1);
    for (const k of all) if (isVal(k) && !keys.some((b) => valKey(b) === k)) keys.push(k);
  }
  return keys.map((k) => {
    const series: Series[] = [];
    if (h.history[k]) series.push({ label: isVal(k) ? 'validation' : 'train', epochs: h.epoch, values: h.history[k], color: isVal(k) ? VAL_COLOR : TRAIN_COLOR, dashed: isVal(k) });
    const vk = valKey(k);
    if (!isVal(k) && h.history[vk]) series.push({ label: 'validation', epochs: h.epoch, values: h.history[vk], color: VAL_COLOR, dashed: true });
    return { title: k, series };
  });
}

// ---- layout ------------------------------------------------------------------------------

type Prim =
  | { kind: 'rect'; x: number; y: number; w: number; h: number; fill: string; stroke?: string }
  | { kind: 'line'; points: [number, number][]; color: string; width: number; dashed?: boolean }
  | { kind: 'dot'; x: number; y: number; r: number; color: string }
  | { kind: 'text'; x: number; y: number; text: string; size: number; anchor: 'start' | 'middle' | 'end'; color: string };

function niceStep(span: number, target: number): number {
  const raw = span / target;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

function fmtTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

function layout(panels: Panel[], options: PlotOptions): { width: number; height: number; prims: Prim[] } {
  const pw = options.panelWidth ?? 420, ph = options.panelHeight ?? 300;
  const cols = Math.max(1, Math.min(options.columns ?? 3, panels.length));
  const rows = Math.max(1, Math.ceil(panels.length / cols));
  const top = options.title ? 28 : 0;
  const width = cols * pw, height = rows * ph + top;
  const prims: Prim[] = [{ kind: 'rect', x: 0, y: 0, w: width, h: height, fill: '#ffffff' }];
  if (options.title) prims.push({ kind: 'text', x: width / 2, y: 20, text: options.title, size: 16, anchor: 'middle', color: '#000000' });
  const m = { l: 62, r: 16, t: 52, b: 42 };
  panels.forEach((panel, pi) => {
    const ox = (pi % cols) * pw, oy = top + Math.floor(pi / cols) * ph;
    const x0 = ox + m.l, x1 = ox + pw - m.r, y0 = oy + m.t, y1 = oy + ph - m.b;
    prims.push({ kind: 'text', x: (x0 + x1) / 2, y: oy + 20, text: panel.title, size: 14, anchor: 'middle', color: '#000000' });
    const epochs = panel.series.flatMap((s) => s.epochs);
    const values = panel.series.flatMap((s) => s.values).filter(Number.isFinite);
    let eLo = epochs.length ? Math.min(...epochs) : 0, eHi = epochs.length ? Math.max(...epochs) : 1;
    if (eHi === eLo) (eLo -= 0.5), (eHi += 0.5);
    let vLo = values.length ? Math.min(...values) : 0, vHi = values.length ? Math.max(...values) : 1;
    if (vHi === vLo) {
      const d = Math.abs(vLo) * 0.1 || 0.5;
      (vLo -= d), (vHi += d);
    }
    const ystep = niceStep(vHi - vLo, 5);
    vLo = Math.floor(vLo / ystep) * ystep;
    vHi = Math.ceil(vHi / ystep) * ystep;
    const sx = (e: number) => x0 + ((e - eLo) / (eHi - eLo)) * (x1 - x0);
    const sy = (v: number) => y1 - ((v - vLo) / (vHi - vLo)) * (y1 - y0);
    // Grid and y ticks.
    for (let v = vLo, i = 0; v <= vHi + ystep * 1e-6 && i < 50; v += ystep, i++) {
      const y = sy(v);
      prims.push({ kind: 'line', points: [[x0, y], [x1, y]], color: '#e6e6e6', width: 1 });
      prims.push({ kind: 'text', x: x0 - 6, y: y + 4, text: fmtTick(Math.abs(v) < ystep * 1e-9 ? 0 : v), size: 11, anchor: 'end', color: '#333333' });
    }
    const xstep = Math.max(1, Math.ceil((eHi - eLo) / 10));
    for (let e = Math.ceil(eLo); e <= eHi; e += xstep) {
      const x = sx(e);
      prims.push({ kind: 'line', points: [[x, y1], [x, y1 + 4]], color: '#333333', width: 1 });
      prims.push({ kind: 'text', x, y: y1 + 17, text: String(e), size: 11, anchor: 'middle', color: '#333333' });
    }
    prims.push({ kind: 'line', points: [[x0, y0], [x0, y1], [x1, y1]], color: '#333333', width: 1 });
    prims.push({ kind: 'text', x: (x0 + x1) / 2, y: y1 + 34, text: 'epoch', size: 12, anchor: 'middle', color: '#333333' });
    // Curves.
    for (const s of panel.series) {
      const pts = s.epochs.map((e, i) => [e, s.values[i]] as const).filter(([, v]) => Number.isFinite(v)).map(([e, v]) => [sx(e), sy(v)] as [number, number]);
      if (pts.length > 1) prims.push({ kind: 'line', points: pts, color: s.color, width: 2, dashed: s.dashed });
      for (const [x, y] of pts) prims.push({ kind: 'dot', x, y, r: 3, color: s.color });
    }
    // Legend: one row between the title and the axes, centred.
    const entryWidth = (s: Series) => 26 + s.label.length * 12 + 16;
    let lx = (x0 + x1) / 2 - panel.series.reduce((a, s) => a + entryWidth(s), 0) / 2;
    const ly = oy + 40;
    for (const s of panel.series) {
      prims.push({ kind: 'line', points: [[lx, ly - 4], [lx + 20, ly - 4]], color: s.color, width: 2, dashed: s.dashed });
      prims.push({ kind: 'text', x: lx + 26, y: ly, text: s.label, size: 11, anchor: 'start', color: '#000000' });
      lx += entryWidth(s);
    }
  });
  return { width, height, prims };
}

// ---- SVG ---------------------------------------------------------------------------------

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
const r2 = (v: number) => Math.round(v * 100) / 100;

export function renderSvg(panels: Panel[], options: PlotOptions = {}): string {
  const { width, height, prims } = layout(panels, options);
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`];
  for (const p of prims) {
    if (p.kind === 'rect') out.push(`<rect x="${r2(p.x)}" y="${r2(p.y)}" width="${r2(p.w)}" height="${r2(p.h)}" fill="${p.fill}"/>`);
    else if (p.kind === 'line')
      out.push(`<polyline points="${p.points.map(([x, y]) => `${r2(x)},${r2(y)}`).join(' ')}" fill="none" stroke="${p.color}" stroke-width="${p.width}"${p.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    else if (p.kind === 'dot') out.push(`<circle cx="${r2(p.x)}" cy="${r2(p.y)}" r="${p.r}" fill="${p.color}"/>`);
    else out.push(`<text x="${r2(p.x)}" y="${r2(p.y)}" font-size="${p.size}" text-anchor="${p.anchor}" fill="${p.color}">${esc(p.text)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

// ---- PNG ---------------------------------------------------------------------------------

// 5x7 glyphs, one number per row, bit 4 the leftmost pixel (the HD44780 character shapes).
const GLYPHS: Record<string, number[]> = {
  '0': [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e], '1': [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e],
  '2': [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f], '3': [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e],
  '4': [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02], '5': [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e],
  '6': [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e], '7': [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
  '8': [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e], '9': [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c],
  '.': [0, 0, 0, 0, 0, 0x0c, 0x0c], '-': [0, 0, 0, 0x1f, 0, 0, 0], '+': [0, 0x04, 0x04, 0x1f, 0x04, 0x04, 0],
  ':': [0, 0x0c, 0x0c, 0, 0x0c, 0x0c, 0], '/': [0, 0x01, 0x02, 0x04, 0x08, 0x10, 0], '(': [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
  ')': [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08], '%': [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03], '_': [0, 0, 0, 0, 0, 0, 0x1f],
  '=': [0, 0, 0x1f, 0, 0x1f, 0, 0], ',': [0, 0, 0, 0, 0x0c, 0x04, 0x08], ' ': [0, 0, 0, 0, 0, 0, 0],
  a: [0, 0, 0x0e, 0x01, 0x0f, 0x11, 0x0f], b: [0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1e], c: [0, 0, 0x0e, 0x10, 0x10, 0x11, 0x0e],
  d: [0x01, 0x01, 0x0d, 0x13, 0x11, 0x11, 0x0f], e: [0, 0, 0x0e, 0x11, 0x1f, 0x10, 0x0e], f: [0x06, 0x09, 0x08, 0x1c, 0x08, 0x08, 0x08],
  g: [0, 0x0f, 0x11, 0x11, 0x0f, 0x01, 0x0e], h: [0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11], i: [0x04, 0, 0x0c, 0x04, 0x04, 0x04, 0x0e],
  j: [0x02, 0, 0x06, 0x02, 0x02, 0x12, 0x0c], k: [0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12], l: [0x0c, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e],
  m: [0, 0, 0x1a, 0x15, 0x15, 0x11, 0x11], n: [0, 0, 0x16, 0x19, 0x11, 0x11, 0x11], o: [0, 0, 0x0e, 0x11, 0x11, 0x11, 0x0e],
  p: [0, 0, 0x1e, 0x11, 0x1e, 0x10, 0x10], q: [0, 0, 0x0d, 0x13, 0x0f, 0x01, 0x01], r: [0, 0, 0x16, 0x19, 0x10, 0x10, 0x10],
  s: [0, 0, 0x0e, 0x10, 0x0e, 0x01, 0x1e], t: [0x08, 0x08, 0x1c, 0x08, 0x08, 0x09, 0x06], u: [0, 0, 0x11, 0x11, 0x11, 0x13, 0x0d],
  v: [0, 0, 0x11, 0x11, 0x11, 0x0a, 0x04], w: [0, 0, 0x11, 0x11, 0x15, 0x15, 0x0a], x: [0, 0, 0x11, 0x0a, 0x04, 0x0a, 0x11],
  y: [0, 0, 0x11, 0x11, 0x0f, 0x01, 0x0e], z: [0, 0, 0x1f, 0x02, 0x04, 0x08, 0x1f],
  A: [0x0e, 0x11, 0x11, 0x11, 0x1f, 0x11, 0x11], B: [0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e], C: [0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e],
  D: [0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c], E: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f], F: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10],
  G: [0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f], H: [0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11], I: [0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e],
  J: [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c], K: [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11], L: [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f],
  M: [0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11], N: [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11], O: [0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e],
  P: [0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10], Q: [0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d], R: [0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11],
  S: [0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e], T: [0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04], U: [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e],
  V: [0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04], W: [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a], X: [0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11],
  Y: [0x11, 0x11, 0x11, 0x0a, 0x04, 0x04, 0x04], Z: [0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f],
};
const UNKNOWN_GLYPH = [0x1f, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1f];

class Canvas {
  readonly px: Uint8Array;
  constructor(readonly width: number, readonly height: number) {
    this.px = new Uint8Array(width * height * 3).fill(255);
  }
  /** Blends colour into pixel (x, y) with coverage a in [0, 1]. */
  blend(x: number, y: number, rgb: [number, number, number], a: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || a <= 0) return;
    const i = (y * this.width + x) * 3;
    const k = Math.min(1, a);
    for (let c = 0; c < 3; c++) this.px[i + c] = Math.round(this.px[i + c] * (1 - k) + rgb[c] * k);
  }
  fillRect(x: number, y: number, w: number, h: number, rgb: [number, number, number]): void {
    for (let j = Math.max(0, Math.round(y)); j < Math.min(this.height, Math.round(y + h)); j++)
      for (let i = Math.max(0, Math.round(x)); i < Math.min(this.width, Math.round(x + w)); i++) this.blend(i, j, rgb, 1);
  }
  /** A disc of radius r with a one-pixel soft edge; `seen` keeps a stroke from darkening its own overlaps. */
  disc(cx: number, cy: number, r: number, rgb: [number, number, number], seen?: Map<number, number>): void {
    for (let y = Math.floor(cy - r - 1); y <= Math.ceil(cy + r + 1); y++)
      for (let x = Math.floor(cx - r - 1); x <= Math.ceil(cx + r + 1); x++) {
        const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
        const a = Math.max(0, Math.min(1, r + 0.5 - d));
        if (a <= 0) continue;
        if (seen) {
          const key = y * this.width + x;
          const prev = seen.get(key) ?? 0;
          if (a <= prev) continue;
          seen.set(key, a);
          this.blend(x, y, rgb, (a - prev) / (1 - prev));
        } else this.blend(x, y, rgb, a);
      }
  }
  polyline(points: [number, number][], width: number, rgb: [number, number, number], dashed: boolean): void {
    const seen = new Map<number, number>();
    const r = width / 2;
    let travelled = 0;
    for (let s = 1; s < points.length; s++) {
      const [ax, ay] = points[s - 1], [bx, by] = points[s];
      const len = Math.hypot(bx - ax, by - ay);
      const n = Math.max(1, Math.ceil(len / 0.35));
      for (let k = 0; k <= n; k++) {
        const t = k / n;
        if (dashed && (travelled + t * len) % 10 >= 6) continue;
        this.disc(ax + (bx - ax) * t, ay + (by - ay) * t, r, rgb, seen);
      }
      travelled += len;
    }
  }
  text(x: number, y: number, text: string, size: number, anchor: 'start' | 'middle' | 'end', rgb: [number, number, number]): void {
    const scale = Math.max(1, Math.round(size / 7));
    const advance = 6 * scale;
    const w = text.length * advance - scale;
    let left = Math.round(anchor === 'start' ? x : anchor === 'middle' ? x - w / 2 : x - w);
    const topY = Math.round(y - 7 * scale);
    for (const ch of text) {
      const g = GLYPHS[ch] ?? UNKNOWN_GLYPH;
      for (let row = 0; row < 7; row++)
        for (let col = 0; col < 5; col++)
          if (g[row] & (0x10 >> col)) this.fillRect(left + col * scale, topY + row * scale, scale, scale, rgb);
      left += advance;
    }
  }
}

function rgbOf(hex: string): [number, number, number] {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

export function renderPng(panels: Panel[], options: PlotOptions = {}): Buffer {
  const { width, height, prims } = layout(panels, options);
  const canvas = new Canvas(width, height);
  for (const p of prims) {
    if (p.kind === 'rect') canvas.fillRect(p.x, p.y, p.w, p.h, rgbOf(p.fill));
    else if (p.kind === 'line') canvas.polyline(p.points, p.width, rgbOf(p.color), p.dashed === true);
    else if (p.kind === 'dot') canvas.disc(p.x, p.y, p.r, rgbOf(p.color));
    else canvas.text(p.x, p.y, p.text, p.size, p.anchor, rgbOf(p.color));
  }
  return encodePng(width, height, 3, canvas.px);
}
