import uPlot from 'uplot';
import type { ChartData, ChartDef } from './data';
import { axisValue, value } from './format';

/**
 * One uPlot chart in a <figure>: sized to its container, coloured from the Okabe–Ito palette (safe for
 * the common colour-vision deficiencies), each series with its own dash pattern too, so that colour is
 * never the only cue. Rebuilt when its series change or the theme does.
 */

/** Okabe & Ito (2008), ordered for contrast on a light and on a dark background. */
export const PALETTE_LIGHT = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#000000',
  '#F0E442',
];
export const PALETTE_DARK = [
  '#56B4E9',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#F0E442',
  '#D55E00',
  '#FFFFFF',
  '#0072B2',
];
const DASHES: (number[] | undefined)[] = [
  undefined,
  [6, 3],
  [2, 3],
  [10, 3, 2, 3],
  [1, 2],
  [12, 4],
  [4, 4],
  [8, 2],
];

export interface ZoomHandlers {
  /** A drag selected [min, max] (unix seconds), or a pan ended there: show and load that span. */
  zoom(min: number, max: number): void;
  /** A Shift+drag pan moved the view to [min, max]: redraw every chart there, at most once a frame. */
  pan(min: number, max: number): void;
  /** Double-click: back to the whole range. */
  reset(): void;
}

const css = (name: string): string =>
  getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';

export function isDark(): boolean {
  return window.matchMedia('(prefers-color-scheme: dark)').matches;
}

export class Chart {
  plot: uPlot | undefined;
  private labels = '';
  private data: ChartData = { x: [], series: [] };
  private readonly body: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly summary: HTMLElement;

  constructor(
    readonly def: ChartDef,
    readonly figure: HTMLElement,
    private readonly syncKey: string,
    private readonly zoom?: ZoomHandlers,
  ) {
    figure.classList.add('chart');
    figure.dataset.chart = def.id;
    const caption = document.createElement('figcaption');
    const title = document.createElement('span');
    title.className = 'chart-title';
    title.textContent = def.title;
    this.summary = document.createElement('span');
    this.summary.className = 'chart-summary';
    caption.append(title, this.summary);
    this.body = document.createElement('div');
    this.body.className = 'chart-body';
    this.body.setAttribute('aria-hidden', 'true');
    this.empty = document.createElement('p');
    this.empty.className = 'chart-empty';
    this.empty.textContent = 'No data for this range yet.';
    figure.append(caption, this.body, this.empty);
  }

  /** Shows `data`; recreates the plot when the set of series changed. */
  update(data: ChartData): void {
    this.data = data;
    const labels = data.series.map((s) => s.label).join('\u0000');
    const drawable = data.x.length >= 2 && data.series.length > 0;
    this.figure.classList.toggle('is-empty', !drawable);
    this.summary.textContent = drawable ? this.latest() : '';
    if (!drawable) {
      this.destroy();
      return;
    }
    const arrays = [data.x, ...data.series.map((s) => s.values)] as uPlot.AlignedData;
    if (this.plot === undefined || labels !== this.labels) {
      this.destroy();
      this.labels = labels;
      this.plot = new uPlot(this.options(), arrays, this.body);
    } else this.plot.setData(arrays);
  }

  /** Latest value of every series, for the caption (and screen readers). */
  private latest(): string {
    return this.data.series
      .map((s) => {
        let v: number | null = null;
        for (let i = s.values.length - 1; i >= 0 && v === null; i--) v = s.values[i] ?? null;
        return `${s.label} ${value(this.def.unit, v)}`;
      })
      .join(' · ');
  }

  /** Redraws with the current theme's colours. */
  retheme(): void {
    if (this.plot === undefined) return;
    this.destroy();
    this.update(this.data);
  }

  resize(): void {
    this.plot?.setSize({ width: this.width(), height: this.height() });
  }

  setRange(min: number, max: number): void {
    this.plot?.setScale('x', { min, max });
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.labels = '';
  }

  /**
   * A Shift+drag: the x range follows the pointer, redrawn (with every synchronised chart, by
   * `handlers.pan`) once per animation frame at most; on release the span is loaded (`handlers.zoom`).
   */
  private pan(u: uPlot, down: MouseEvent, handlers: ZoomHandlers): void {
    const min = u.scales.x?.min;
    const max = u.scales.x?.max;
    const width = u.over.clientWidth;
    if (min === undefined || max === undefined || !(width > 0)) return;
    const perPixel = (max - min) / width;
    let view: [number, number] = [min, max];
    let frame = 0;
    const move = (e: MouseEvent): void => {
      const shift = (e.clientX - down.clientX) * perPixel;
      view = [min - shift, max - shift];
      if (frame === 0)
        frame = requestAnimationFrame(() => {
          frame = 0;
          handlers.pan(view[0], view[1]);
        });
    };
    const up = (): void => {
      document.removeEventListener('mousemove', move);
      document.removeEventListener('mouseup', up);
      if (frame !== 0) cancelAnimationFrame(frame);
      handlers.pan(view[0], view[1]);
      if (view[0] !== min) handlers.zoom(view[0], view[1]);
    };
    document.addEventListener('mousemove', move);
    document.addEventListener('mouseup', up);
  }

  private width(): number {
    return Math.max(240, Math.floor(this.body.clientWidth || this.figure.clientWidth - 16));
  }

  private height(): number {
    return window.innerWidth < 600 ? 160 : 200;
  }

  private options(): uPlot.Options {
    const palette = isDark() ? PALETTE_DARK : PALETTE_LIGHT;
    const fg = css('--muted');
    const grid = css('--grid');
    const unit = this.def.unit;
    const axis = (): uPlot.Axis => ({
      stroke: fg,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1 },
      font: '11px system-ui, sans-serif',
    });
    const zoom = this.zoom;
    return {
      width: this.width(),
      height: this.height(),
      scales: {
        x: { time: true },
        y:
          unit === 'percent'
            ? { range: (_u, _min, max) => [0, Math.max(5, Math.min(100, max * 1.1))] }
            : { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      series: [
        {},
        ...this.data.series.map((s, i) => ({
          label: s.label,
          stroke: palette[i % palette.length],
          width: 1.5,
          ...(DASHES[i % DASHES.length] === undefined ? {} : { dash: DASHES[i % DASHES.length] }),
          spanGaps: false,
          points: { show: false },
          value: (_u: uPlot, v: number | null) => value(unit, v),
        })),
      ],
      axes: [
        axis(),
        {
          ...axis(),
          size: unit === 'bytes/s' ? 84 : 70,
          values: (_u, splits) => splits.map((v) => axisValue(unit, v)),
        },
      ],
      legend: { live: true },
      cursor: {
        sync: { key: this.syncKey },
        drag: { x: zoom !== undefined, y: false, setScale: false },
        ...(zoom === undefined
          ? {}
          : {
              bind: {
                dblclick: () => () => {
                  zoom.reset();
                  return null;
                },
                // Shift+drag pans instead of selecting a span to zoom into.
                mousedown: (u, _target, handler) => (e: MouseEvent) => {
                  if (!e.shiftKey || e.button !== 0) return handler(e);
                  this.pan(u, e, zoom);
                  return null;
                },
              },
            }),
      },
      hooks:
        zoom === undefined
          ? {}
          : {
              setSelect: [
                (u: uPlot) => {
                  const { left, width } = u.select;
                  if (width < 4) return;
                  const min = u.posToVal(left, 'x');
                  const max = u.posToVal(left + width, 'x');
                  u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
                  zoom.zoom(min, max);
                },
              ],
            },
    };
  }
}
