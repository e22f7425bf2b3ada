import { hostChartCid, type ChartImage } from './charts';
import type { ReportData, UsageStats } from './data';

/** The mail of a report: subject, HTML part (inline PNGs by cid:), plain-text part. */
export interface RenderedReport {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly images: readonly ChartImage[];
}

export interface RenderOptions {
  readonly timeZone: string;
  /** Base URL of Grafana (no trailing slash), for links to the bundle's dashboards; '' for none. */
  readonly grafanaUrl: string;
  readonly title?: string;
}

export const pct = (v: number | null): string => (v === null ? '-' : `${v.toFixed(1)} %`);

function delta(now: number | null, before: number | null): string {
  if (now === null || before === null) return '';
  const d = now - before;
  return `${d >= 0 ? '+' : '-'}${Math.abs(d).toFixed(1)}`;
}

export function duration(seconds: number | null): string {
  if (seconds === null) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function bytes(v: number | null): string {
  if (v === null) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let x = Math.abs(v);
  let i = 0;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${v < 0 ? '-' : ''}${x.toFixed(x >= 100 || i === 0 ? 0 : 1)} ${units[i] ?? 'B'}`;
}

const esc = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

function dateTime(ms: number | Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    year: 'numeric',
    month: 'short',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(ms);
}

function link(
  grafana: string,
  path: string,
  w: ReportData['window'],
  params: Record<string, string> = {},
): string {
  if (grafana === '') return '';
  const q = new URLSearchParams({ ...params, from: String(w.fromMs), to: String(w.toMs) });
  return `${grafana}${path}?${q.toString()}`;
}

const TD = 'padding:3px 4px;border-bottom:1px solid #e5e5e5;text-align:right;white-space:nowrap';
const TDL = 'padding:3px 4px;border-bottom:1px solid #e5e5e5;text-align:left;word-break:break-word';
const TH =
  'padding:3px 4px;border-bottom:2px solid #ccc;text-align:right;font-weight:600;color:#555;font-size:11px';
const THL = TH.replace('text-align:right', 'text-align:left');

function table(head: readonly string[], rows: readonly (readonly string[])[], leftCols = 1): string {
  const th = head.map((h, i) => `<th style="${i < leftCols ? THL : TH}">${esc(h)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${r.map((c, i) => `<td style="${i < leftCols ? TDL : TD}">${c}</td>`).join('')}</tr>`)
    .join('');
  return `<table role="presentation" cellspacing="0" cellpadding="0" style="width:100%;border-collapse:collapse;font-size:12px;margin:6px 0 14px">${
    th === '' ? '' : `<thead><tr>${th}</tr></thead>`
  }<tbody>${body}</tbody></table>`;
}

function usageRow(name: string, s: UsageStats, prev: UsageStats): string[] {
  return [esc(name), pct(s.avg), pct(s.p95), pct(s.peak), esc(delta(s.avg, prev.avg))];
}

function textTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function renderReport(
  data: ReportData,
  images: readonly ChartImage[],
  o: RenderOptions,
): RenderedReport {
  const tz = o.timeZone;
  const w = data.window;
  const periodText = `${dateTime(w.fromMs, tz)} - ${dateTime(w.toMs, tz)} (${tz})`;
  const title = o.title ?? 'hostscope report';
  const a = data.alerts;
  const subject = `${title}: ${data.hosts.length} hosts, ${a.fired} alerts fired, ${a.stillFiring} firing (${dateTime(w.fromMs, tz).slice(0, 11)} - ${dateTime(w.toMs, tz).slice(0, 11)})`;
  const img = (cid: string): ChartImage | undefined => images.find((i) => i.cid === cid);

  // ---------------------------------------------------------------- HTML
  const h: string[] = [];
  const section = (name: string, href = ''): void => {
    h.push(
      `<h2 style="font-size:17px;margin:22px 0 4px;border-bottom:1px solid #ddd;padding-bottom:3px">${esc(name)}${
        href === ''
          ? ''
          : ` <a href="${esc(href)}" style="font-size:12px;font-weight:normal;color:#1f6fb4">Grafana &rarr;</a>`
      }</h2>`,
    );
  };
  h.push(
    `<p style="margin:0 0 8px;color:#555">${esc(periodText)}. Compared with the ${duration((w.toMs - w.fromMs) / 1000)} before.</p>`,
  );
  h.push(
    table(
      [],
      [
        ['Hosts reporting', String(data.hosts.length)],
        ['Alerts fired', `${a.fired} <span style="color:#777">(before: ${a.previousFired})</span>`],
        ['Still firing', String(a.stillFiring)],
        ['Mean time to resolve', duration(a.mttrSeconds)],
        ['Hosts that stopped reporting', String(data.silentHosts.length)],
      ],
    ),
  );
  section('Alerts', link(o.grafanaUrl, '/d/hostscope-alerts', w));
  if (a.top.length > 0)
    h.push(
      table(
        ['Alert', 'Instance', 'Fired', 'MTTR'],
        a.top.map((t) => [
          esc(t.alertname),
          esc(t.instance ?? '-'),
          String(t.fired),
          duration(t.mttrSeconds),
        ]),
        2,
      ),
    );
  else h.push('<p>No alert fired.</p>');
  if (a.firing.length > 0) {
    h.push('<p style="margin:4px 0;font-weight:600">Firing at the end of the period</p>');
    h.push(
      table(
        ['Alert', 'Instance', 'Since'],
        a.firing.map((f) => [esc(f.alertname), esc(f.instance ?? '-'), esc(dateTime(f.startsAt, tz))]),
        2,
      ),
    );
  }
  if (data.silentHosts.length > 0) {
    section('Hosts that stopped reporting');
    h.push(
      table(
        ['Host', 'Last data'],
        data.silentHosts.map((s) => [esc(`${s.host} (${s.instance})`), esc(dateTime(s.lastSeen, tz))]),
      ),
    );
  }
  section('Hosts', link(o.grafanaUrl, '/d/hostscope-history', w));
  h.push(
    '<p style="margin:0 0 6px;color:#555;font-size:12px">Average, 95th percentile of the hourly averages, and peak scrape; the last column is the change of the average against the previous period, in points.</p>',
  );
  for (const host of data.hosts) {
    const href = link(o.grafanaUrl, '/d/hostscope-host', w, { 'var-instance': host.instance });
    h.push(
      `<h3 style="font-size:15px;margin:14px 0 2px">${esc(host.host)} <span style="color:#777;font-weight:normal;font-size:12px">${esc(host.instance)}</span>${
        href === ''
          ? ''
          : ` <a href="${esc(href)}" style="font-size:12px;font-weight:normal;color:#1f6fb4">dashboard</a>`
      }</h3>`,
    );
    h.push(
      table(
        ['', 'Avg', 'p95', 'Peak', '&Delta; avg'].map((x) => x),
        [usageRow('CPU', host.cpu, host.previousCpu), usageRow('Memory', host.memory, host.previousMemory)],
      ).replace('&amp;Delta;', '&Delta;'),
    );
    const chart = img(hostChartCid(host.instance));
    if (chart !== undefined)
      h.push(
        `<img src="cid:${chart.cid}" alt="CPU and memory of ${esc(host.host)}" width="640" style="display:block;width:100%;max-width:640px;height:auto;border:0">`,
      );
  }
  section('Filesystems');
  const fsShown = data.filesystems.slice(0, 10);
  if (fsShown.length === 0) h.push('<p>No filesystem data in the period.</p>');
  else
    h.push(
      table(
        ['Filesystem', 'Size', 'Used', 'Growth/day', 'Full in'],
        fsShown.map((f) => [
          esc(`${f.host} ${f.mountpoint}`),
          bytes(f.sizeBytes),
          pct(f.usedPercent),
          bytes(f.growthBytesPerDay),
          f.daysUntilFull === null ? 'not filling' : `${f.daysUntilFull.toFixed(1)} d`,
        ]),
      ),
    );
  const fsChart = img('filesystems@hostscope');
  if (fsChart !== undefined)
    h.push(
      `<img src="cid:${fsChart.cid}" alt="Filesystem fill trend" width="640" style="display:block;width:100%;max-width:640px;height:auto;border:0">`,
    );
  section('Containers');
  if (data.topCpu.length === 0) h.push('<p>No container data in the period.</p>');
  else {
    h.push('<p style="margin:4px 0;font-weight:600">Top CPU (share of the machine)</p>');
    h.push(
      table(
        ['Container', 'Avg', 'Peak'],
        data.topCpu.map((c) => [esc(`${c.host} / ${c.container}`), pct(c.cpuAvg), pct(c.cpuPeak)]),
      ),
    );
    h.push('<p style="margin:4px 0;font-weight:600">Top memory (working set)</p>');
    h.push(
      table(
        ['Container', 'Avg', 'Peak'],
        data.topMemory.map((c) => [
          esc(`${c.host} / ${c.container}`),
          bytes(c.memoryAvgBytes),
          bytes(c.memoryPeakBytes),
        ]),
      ),
    );
  }
  h.push(
    data.containerEvents.length === 0
      ? '<p>No container restarts or OOM kills.</p>'
      : table(
          ['Container', 'Restarts', 'OOM kills'],
          data.containerEvents.map((e) => [
            esc(`${e.host} / ${e.container}`),
            String(e.restarts),
            String(e.oomKills),
          ]),
        ),
  );
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(subject)}</title></head>
<body style="margin:0;padding:0;background:#f4f4f4">
<div style="max-width:680px;margin:0 auto;padding:10px 8px;background:#ffffff;font-family:-apple-system,'Segoe UI',Roboto,'DejaVu Sans',Arial,sans-serif;color:#222;line-height:1.4">
<h1 style="font-size:20px;margin:4px 0">${esc(title)}</h1>
${h.join('\n')}
<p style="margin:24px 0 4px;color:#888;font-size:11px">Sent by hostscope report from the PostgreSQL rollups and the alert history.</p>
</div></body></html>
`;

  // ---------------------------------------------------------------- text
  const t: string[] = [title.toUpperCase(), periodText, ''];
  t.push(
    `Hosts reporting: ${data.hosts.length}`,
    `Alerts fired: ${a.fired} (before: ${a.previousFired})`,
    `Still firing: ${a.stillFiring}`,
    `Mean time to resolve: ${duration(a.mttrSeconds)}`,
    `Hosts that stopped reporting: ${data.silentHosts.length}`,
    '',
    '== Alerts',
  );
  if (o.grafanaUrl !== '') t.push(link(o.grafanaUrl, '/d/hostscope-alerts', w));
  t.push(
    a.top.length === 0
      ? 'No alert fired.'
      : textTable(
          ['alert', 'instance', 'fired', 'mttr'],
          a.top.map((x) => [x.alertname, x.instance ?? '-', String(x.fired), duration(x.mttrSeconds)]),
        ),
  );
  if (a.firing.length > 0)
    t.push(
      '',
      'Firing at the end of the period:',
      ...a.firing.map((f) => `- ${f.alertname} ${f.instance ?? ''} since ${dateTime(f.startsAt, tz)}`),
    );
  if (data.silentHosts.length > 0)
    t.push(
      '',
      '== Hosts that stopped reporting',
      ...data.silentHosts.map((s) => `- ${s.host} (${s.instance}), last data ${dateTime(s.lastSeen, tz)}`),
    );
  t.push('', '== Hosts (avg / p95 / peak, change of avg in points)');
  for (const host of data.hosts) {
    t.push(`${host.host} (${host.instance})`);
    t.push(
      `  cpu    ${pct(host.cpu.avg)} / ${pct(host.cpu.p95)} / ${pct(host.cpu.peak)}  ${delta(host.cpu.avg, host.previousCpu.avg)}`,
      `  memory ${pct(host.memory.avg)} / ${pct(host.memory.p95)} / ${pct(host.memory.peak)}  ${delta(host.memory.avg, host.previousMemory.avg)}`,
    );
    if (o.grafanaUrl !== '')
      t.push(`  ${link(o.grafanaUrl, '/d/hostscope-host', w, { 'var-instance': host.instance })}`);
  }
  t.push('', '== Filesystems');
  t.push(
    fsShown.length === 0
      ? 'No filesystem data in the period.'
      : textTable(
          ['filesystem', 'size', 'used', 'growth/day', 'full in'],
          fsShown.map((f) => [
            `${f.host} ${f.mountpoint}`,
            bytes(f.sizeBytes),
            pct(f.usedPercent),
            bytes(f.growthBytesPerDay),
            f.daysUntilFull === null ? 'not filling' : `${f.daysUntilFull.toFixed(1)} d`,
          ]),
        ),
  );
  t.push('', '== Containers');
  if (data.topCpu.length > 0) {
    t.push(
      'Top CPU:',
      ...data.topCpu.map((c) => `- ${c.host} / ${c.container}: ${pct(c.cpuAvg)} avg, ${pct(c.cpuPeak)} peak`),
    );
    t.push(
      'Top memory:',
      ...data.topMemory.map(
        (c) =>
          `- ${c.host} / ${c.container}: ${bytes(c.memoryAvgBytes)} avg, ${bytes(c.memoryPeakBytes)} peak`,
      ),
    );
  } else t.push('No container data in the period.');
  t.push(
    data.containerEvents.length === 0
      ? 'No container restarts or OOM kills.'
      : [
          'Restarts and OOM kills:',
          ...data.containerEvents.map(
            (e) => `- ${e.host} / ${e.container}: ${e.restarts} restarts, ${e.oomKills} OOM kills`,
          ),
        ].join('\n'),
  );
  if (o.grafanaUrl !== '') t.push('', `Long-term history: ${link(o.grafanaUrl, '/d/hostscope-history', w)}`);
  return { subject, html, text: `${t.join('\n')}\n`, images };
}
