import { createCanvas } from '@napi-rs/canvas';
import { Chart, registerables, type ChartConfiguration } from 'chart.js';
import type { FilesystemReport, HostReport } from './data';

/**
 * Charts of the report, drawn server-side by Chart.js on a Skia canvas (@napi-rs/canvas) and encoded as
 * PNG: mail clients strip SVG and scripts, so an inline (cid:) PNG is what every client shows.
 */

let registered = false;
function register(): void {
  if (registered) return;
  Chart.register(...registerables);
  Chart.defaults.font.family = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';
  Chart.defaults.font.size = 12;
  Chart.defaults.color = '#333';
  registered = true;
}

export interface ChartImage {
  readonly cid: string;
  readonly filename: string;
  readonly title: string;
  readonly png: Buffer;
}

const WIDTH = 640;
const HEIGHT = 220;
/** Drawn at twice the CSS size, so text stays sharp on phones and high-density screens. */
const SCALE = 2;

function render(config: ChartConfiguration<'line'>): Buffer {
  register();
  // Chart.js sizes the canvas itself: WIDTH x HEIGHT CSS pixels times devicePixelRatio.
  const canvas = createCanvas(WIDTH, HEIGHT);
  const ctx = canvas.getContext('2d');
  // Chart.js takes any 2D context with the canvas API; Skia's is one (the DOM type is not in Node's lib).
  const chart = new Chart(ctx as unknown as ConstructorParameters<typeof Chart>[0], {
    ...config,
    plugins: [
      {
        id: 'white-background',
        beforeDraw: (c) => {
          c.ctx.save();
          c.ctx.fillStyle = '#ffffff';
          c.ctx.fillRect(0, 0, c.width, c.height);
          c.ctx.restore();
        },
      },
    ],
    options: {
      ...config.options,
      responsive: false,
      animation: false,
      devicePixelRatio: SCALE,
    },
  });
  const png = canvas.toBuffer('image/png');
  chart.destroy();
  return png;
}

function dayLabel(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, day: '2-digit', month: 'short' }).format(ms);
}

export function slug(s: string): string {
  return (
    s
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .toLowerCase() || 'x'
  );
}

/** Each host's hourly CPU and memory (averages) over the period, one chart per host. */
export function hostChart(h: HostReport, timeZone: string): ChartImage {
  const labels = h.hourly.map(([t]) => dayLabel(t, timeZone));
  const png = render({
    type: 'line',
    data: {
      labels,
      datasets: [
        {
          label: 'CPU %',
          data: h.hourly.map(([, cpu]) => cpu),
          borderColor: '#1f6fb4',
          backgroundColor: 'rgba(31,111,180,0.12)',
          fill: true,
          pointRadius: 0,
          borderWidth: 1.5,
          spanGaps: false,
        },
        {
          label: 'Memory %',
          data: h.hourly.map(([, , mem]) => mem),
          borderColor: '#d9822b',
          pointRadius: 0,
          borderWidth: 1.5,
          spanGaps: false,
        },
      ],
    },
    options: {
      plugins: {
        title: { display: true, text: `${h.host}: CPU and memory (hourly averages)` },
        legend: { position: 'bottom', labels: { boxWidth: 12 } },
      },
      scales: {
        y: { min: 0, max: 100, ticks: { stepSize: 25, callback: (v) => `${String(v)} %` } },
        x: { ticks: { maxTicksLimit: 8, autoSkip: true, maxRotation: 0 }, grid: { display: false } },
      },
    },
  });
  return {
    cid: `host-${slug(h.instance)}@hostscope`,
    filename: `host-${slug(h.instance)}.png`,
    title: h.host,
    png,
  };
}

/** The fill trend (daily used %) of the fullest or fastest-filling filesystems, in one chart. */
export function filesystemChart(list: readonly FilesystemReport[], timeZone: string): ChartImage | undefined {
  if (list.length === 0) return undefined;
  const days = [...new Set(list.flatMap((f) => f.daily.map(([d]) => d)))].sort((a, b) => a - b);
  const colors = ['#c0392b', '#8e44ad', '#16a085', '#2c3e50', '#d35400'];
  const png = render({
    type: 'line',
    data: {
      labels: days.map((d) => dayLabel(d, timeZone)),
      datasets: list.map((f, i) => {
        const byDay = new Map(f.daily);
        return {
          label: `${f.host} ${f.mountpoint}`,
          data: days.map((d) => byDay.get(d) ?? null),
          borderColor: colors[i % colors.length],
          pointRadius: 2,
          borderWidth: 1.5,
        };
      }),
    },
    options: {
      plugins: {
        title: { display: true, text: 'Filesystems: used % at the end of each day' },
        legend: { position: 'bottom', labels: { boxWidth: 12 } },
      },
      scales: {
        y: { min: 0, max: 100, ticks: { stepSize: 25, callback: (v) => `${String(v)} %` } },
        x: { ticks: { maxTicksLimit: 10, maxRotation: 0 }, grid: { display: false } },
      },
    },
  });
  return { cid: 'filesystems@hostscope', filename: 'filesystems.png', title: 'Filesystems', png };
}

/** The Content-ID of a host's chart. */
export function hostChartCid(instance: string): string {
  return `host-${slug(instance)}@hostscope`;
}
