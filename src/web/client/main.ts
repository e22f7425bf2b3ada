/**
 * The overview page (served by the sink at `/`): the browser side, the only module here that touches the
 * DOM, the network and timers. Live figures arrive by Server-Sent Events (`api/v1/live`); History reads
 * `api/v1/series`; Alerts reads `api/v1/alerts`. Chart data is built by data.ts (pure), drawn by charts.ts.
 * Every text that comes from the server is set with textContent, never parsed as HTML.
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import type {
  BacklogMessage,
  HelloMessage,
  LiveContainer,
  LiveFilesystem,
  LiveHost,
  LiveHostSummary,
  LivePoint,
} from '../protocol';
import { Chart, isDark } from './charts';
import {
  CHART_CONTAINERS,
  CHART_FILESYSTEMS,
  CHARTS,
  CONTAINER_CHARTS,
  RANGES,
  historyCharts,
  liveCharts,
  mergePoints,
  type ChartDef,
  type ChartId,
  type ContainersAnswer,
  type FilesystemsAnswer,
  type HistoryAnswers,
  type RangeId,
  type RatesAnswer,
  type SeriesAnswer,
} from './data';
import * as fmt from './format';

type Tab = 'live' | 'history' | 'alerts';

interface DbHost {
  readonly instance: string;
  readonly host: string;
  readonly time: number | null;
  readonly cpu: { readonly percent: number | null; readonly count: number | null };
  readonly memory: {
    readonly percent: number | null;
    readonly used_bytes: number | null;
    readonly total_bytes: number | null;
  };
  readonly load: { readonly load1: number | null };
  readonly filesystems: readonly LiveFilesystem[];
  readonly containers: readonly {
    name: string;
    id: string;
    image: string;
    status: string;
    cpu_percent: number | null;
    cpu_cores: number | null;
    memory_usage_bytes: number | null;
    memory_limit_bytes: number | null;
    memory_percent: number | null;
    restarts_total: number | null;
    oom_events_total: number | null;
  }[];
}

interface Alert {
  alertname: string;
  severity: string | null;
  instance: string | null;
  starts_at: number;
  ends_at: number | null;
  duration_seconds: number | null;
  firing_seconds: number | null;
  summary: string | null;
}

const state = {
  tab: 'live' as Tab,
  range: '24h' as RangeId,
  instance: '',
  /** Hosts the sink scrapes (live) and hosts of its database (History only). */
  live: [] as LiveHostSummary[],
  db: [] as DbHost[],
  latest: undefined as LiveHost | undefined,
  points: [] as LivePoint[],
  maxPoints: 360,
  interval: 15,
  started: 0,
  connected: false,
  /** History zoom (unix seconds), undefined for the whole range. */
  zoom: undefined as { min: number; max: number } | undefined,
  historyGeneration: 0,
  historyInfo: '',
  allAlerts: false,
};

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} missing from the page`);
  return el as T;
};

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  cls?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls !== undefined) e.className = cls;
  return e;
}

// ---- URL state: #host=...&tab=...&range=... (bookmarkable) -------------------------------------------

function readHash(): void {
  const p = new URLSearchParams(location.hash.slice(1));
  const tab = p.get('tab');
  if (tab === 'live' || tab === 'history' || tab === 'alerts') state.tab = tab;
  const range = p.get('range');
  if (RANGES.some((r) => r.id === range)) state.range = range as RangeId;
  state.instance = p.get('host') ?? '';
}

function writeHash(): void {
  const p = new URLSearchParams();
  if (state.instance !== '') p.set('host', state.instance);
  p.set('tab', state.tab);
  p.set('range', state.range);
  history.replaceState(null, '', `#${p.toString()}`);
}

// ---- charts --------------------------------------------------------------------------------------

const liveCharts_ = new Map<ChartId, Chart>();
const historyCharts_ = new Map<ChartId, Chart>();

function makeCharts(
  container: HTMLElement,
  defs: readonly ChartDef[],
  into: Map<ChartId, Chart>,
  sync: string,
  zoomable: boolean,
): void {
  for (const def of defs) {
    const fig = el('figure');
    container.append(fig);
    into.set(
      def.id,
      new Chart(
        def,
        fig,
        sync,
        zoomable
          ? {
              zoom: (min, max) => zoomTo(min, max),
              pan: (min, max) => showRange(min, max),
              reset: () => resetZoom(),
            }
          : undefined,
      ),
    );
  }
}

function allCharts(): Chart[] {
  return [...liveCharts_.values(), ...historyCharts_.values()];
}

// ---- host picker ---------------------------------------------------------------------------------

function hostChoices(): { instance: string; label: string }[] {
  const out = new Map<string, string>();
  for (const h of state.live)
    out.set(h.instance, h.host === h.instance ? h.instance : `${h.host} (${h.instance})`);
  for (const h of state.db)
    if (!out.has(h.instance))
      out.set(h.instance, `${h.host === h.instance ? h.instance : `${h.host} (${h.instance})`} · history`);
  return [...out].map(([instance, label]) => ({ instance, label }));
}

function renderHostPicker(): void {
  const select = $<HTMLSelectElement>('host');
  const choices = hostChoices();
  const key = choices.map((c) => `${c.instance}\u0000${c.label}`).join('\u0001');
  if (select.dataset.key !== key) {
    select.replaceChildren(
      ...choices.map((c) => {
        const o = el('option', c.label);
        o.value = c.instance;
        return o;
      }),
    );
    select.dataset.key = key;
  }
  if (state.instance === '' && choices[0] !== undefined) adoptInstance(choices[0].instance);
  select.value = state.instance;
}

/** The first host known, when none was chosen: load what the open tab shows for it. */
function adoptInstance(instance: string): void {
  state.instance = instance;
  writeHash();
  if (state.tab === 'history') void loadHistory();
  if (state.tab === 'alerts') void loadAlerts();
}

function selectHost(instance: string): void {
  if (instance === state.instance) return;
  state.instance = instance;
  state.points = [];
  state.latest = undefined;
  state.zoom = undefined;
  writeHash();
  connect();
  renderLive();
  if (state.tab === 'history') void loadHistory();
  if (state.tab === 'alerts') void loadAlerts();
}

// ---- live stream ---------------------------------------------------------------------------------

let source: EventSource | undefined;
let retryTimer: number | undefined;
let retryMs = 1000;

function setStatus(text: string, kind: 'ok' | 'warn'): void {
  const s = $('status');
  s.textContent = text;
  s.dataset.kind = kind;
}

function connect(): void {
  source?.close();
  if (retryTimer !== undefined) window.clearTimeout(retryTimer);
  retryTimer = undefined;
  const url =
    state.instance === '' ? 'api/v1/live' : `api/v1/live?instance=${encodeURIComponent(state.instance)}`;
  const es = new EventSource(url);
  source = es;
  const json = <T>(e: Event): T => JSON.parse((e as MessageEvent<string>).data) as T;
  es.addEventListener('hello', (e) => {
    const hello = json<HelloMessage>(e);
    retryMs = 1000;
    state.connected = true;
    state.interval = hello.interval_seconds;
    state.maxPoints = Math.max(hello.backlog_points, 60);
    if (state.started !== 0 && hello.started !== state.started)
      document.body.dataset.restarts = String(Number(document.body.dataset.restarts ?? 0) + 1);
    state.started = hello.started;
    if (state.instance === '' && hello.instance !== null) adoptInstance(hello.instance);
    setStatus(`Live · every ${hello.interval_seconds} s`, 'ok');
  });
  es.addEventListener('hosts', (e) => {
    state.live = json<LiveHostSummary[]>(e);
    renderHostPicker();
  });
  es.addEventListener('backlog', (e) => {
    const b = json<BacklogMessage>(e);
    if (b.instance !== state.instance) return;
    state.points = mergePoints(state.points, b.points, state.maxPoints);
    renderLive();
  });
  es.addEventListener('host', (e) => {
    const h = json<LiveHost>(e);
    if (h.instance !== state.instance) return;
    state.latest = h;
    if (h.up) state.points = mergePoints(state.points, [h.point], state.maxPoints);
    document.body.dataset.liveTime = String(h.time);
    setStatus(
      h.up
        ? `Live · updated ${fmt.time(h.time).slice(11)}`
        : `Scrape failed at ${fmt.time(h.time).slice(11)}: ${h.error ?? ''}`,
      h.up ? 'ok' : 'warn',
    );
    renderLive();
  });
  es.onerror = () => {
    state.connected = false;
    if (es.readyState === EventSource.CLOSED) {
      // Refused (503 past --web.live.max-clients) or not an event stream: try again later, backing off.
      setStatus(`Disconnected · retrying in ${Math.round(retryMs / 1000)} s`, 'warn');
      retryTimer = window.setTimeout(connect, retryMs);
      retryMs = Math.min(30_000, retryMs * 2);
    } else setStatus('Reconnecting…', 'warn');
  };
}

// ---- live view -----------------------------------------------------------------------------------

function tile(label: string, value: string, detail = ''): HTMLElement {
  const d = el('div', undefined, 'tile');
  d.append(el('span', label, 'tile-label'), el('span', value, 'tile-value'));
  if (detail !== '') d.append(el('span', detail, 'tile-detail'));
  return d;
}

function table(
  headers: readonly string[],
  rows: readonly (readonly (string | HTMLElement)[])[],
  caption: string,
  empty: string,
): HTMLElement {
  if (rows.length === 0) return el('p', empty, 'note');
  const t = el('table');
  t.append(el('caption', caption, 'visually-hidden'));
  const head = el('tr');
  for (const h of headers) {
    const th = el('th', h);
    th.scope = 'col';
    head.append(th);
  }
  t.append(el('thead'));
  t.tHead?.append(head);
  const body = el('tbody');
  for (const r of rows) {
    const tr = el('tr');
    for (const c of r) {
      const td = el('td');
      if (typeof c === 'string') td.textContent = c;
      else td.append(c);
      tr.append(td);
    }
    body.append(tr);
  }
  t.append(body);
  return t;
}

function meter(pct: number | null, label: string): HTMLElement {
  const m = el('meter');
  m.min = 0;
  m.max = 100;
  m.low = 80;
  m.high = 90;
  m.optimum = 0;
  m.value = pct ?? 0;
  m.setAttribute('aria-label', label);
  const wrap = el('span', undefined, 'meter');
  wrap.append(m, el('span', fmt.percent(pct)));
  return wrap;
}

function filesystemRows(list: readonly LiveFilesystem[]): (string | HTMLElement)[][] {
  return list.map((f) => [
    f.mountpoint,
    `${f.device} (${f.fstype})`,
    fmt.bytes(f.size_bytes),
    meter(f.used_percent, `${f.mountpoint} used`),
    f.forecast_used_percent_24h === null ? 'no trend yet' : fmt.percent(f.forecast_used_percent_24h),
    f.full_in_seconds === null ? '–' : fmt.duration(f.full_in_seconds),
  ]);
}

function containerRows(list: readonly LiveContainer[]): (string | HTMLElement)[][] {
  return list.map((c) => [
    c.name,
    c.state,
    c.cpu_percent === null ? '–' : `${fmt.percent(c.cpu_percent)} (${fmt.number(c.cpu_cores)} cores)`,
    c.memory_usage_bytes === null ? '–' : meter(c.memory_percent, `${c.name} memory of its limit`),
    c.memory_limit_bytes === null
      ? '–'
      : `${fmt.bytes(c.memory_usage_bytes)} / ${fmt.bytes(c.memory_limit_bytes)}`,
    c.restarts === null ? '–' : String(c.restarts),
    c.oom_events === null ? '–' : String(c.oom_events),
  ]);
}

const FS_HEADERS = ['Mount', 'Device', 'Size', 'Used', 'Used in 24 h (trend)', 'Full in'];
const CONTAINER_HEADERS = [
  'Container',
  'State',
  'CPU (of the host)',
  'Memory (of limit)',
  'Used / limit',
  'Restarts',
  'OOM kills',
];

function renderLive(): void {
  const h = state.latest;
  const dbHost = state.db.find((d) => d.instance === state.instance);
  const isLive = state.live.some((l) => l.instance === state.instance);
  const note = $('live-note');
  const tiles = $('tiles');
  if (!isLive && dbHost !== undefined) {
    note.hidden = false;
    note.textContent = `This sink does not scrape ${dbHost.instance}: the figures below are its latest in the database (${fmt.time(dbHost.time)}). History has its charts.`;
    tiles.replaceChildren(
      tile('CPU busy', fmt.percent(dbHost.cpu.percent), `${dbHost.cpu.count ?? '–'} CPUs`),
      tile(
        'Memory used',
        fmt.percent(dbHost.memory.percent),
        `${fmt.bytes(dbHost.memory.used_bytes)} of ${fmt.bytes(dbHost.memory.total_bytes)}`,
      ),
      tile('Load (1 min)', fmt.number(dbHost.load.load1)),
      tile('Containers', String(dbHost.containers.length)),
    );
    for (const c of liveCharts_.values()) c.update({ x: [], series: [] });
    $('fs-table').replaceChildren(
      table(FS_HEADERS, filesystemRows(dbHost.filesystems), 'Filesystems', 'No filesystems reported.'),
    );
    $('containers-table').replaceChildren(
      table(
        CONTAINER_HEADERS,
        containerRows(
          dbHost.containers.map((c) => ({
            name: c.name,
            id: c.id,
            image: c.image,
            state: c.status,
            cpu_percent: c.cpu_percent,
            cpu_cores: c.cpu_cores,
            memory_usage_bytes: c.memory_usage_bytes,
            memory_limit_bytes: c.memory_limit_bytes,
            memory_percent: c.memory_percent,
            restarts: c.restarts_total,
            oom_events: c.oom_events_total,
          })),
        ),
        'Containers',
        'No containers reported.',
      ),
    );
    return;
  }
  note.hidden = h !== undefined;
  note.textContent = h === undefined ? `Waiting for the first scrape (every ${state.interval} s)…` : '';
  if (h === undefined) return;
  const c = h.containers;
  tiles.replaceChildren(
    tile('CPU busy', fmt.percent(h.cpu.percent), `${h.cpu.count ?? '–'} CPUs`),
    tile(
      'Memory used',
      fmt.percent(h.memory.percent),
      `${fmt.bytes(h.memory.used_bytes)} of ${fmt.bytes(h.memory.total_bytes)}`,
    ),
    tile(
      'Load (1 min)',
      fmt.number(h.point.load1),
      `5 min ${fmt.number(h.point.load5)} · 15 min ${fmt.number(h.point.load15)}`,
    ),
    tile('Containers', `${c.running} running`, `${c.count} in all`),
    tile(
      'Network',
      fmt.rate((h.point.rx ?? 0) + (h.point.tx ?? 0)),
      `in ${fmt.rate(h.point.rx)} · out ${fmt.rate(h.point.tx)}`,
    ),
    tile(
      'Disks',
      fmt.rate((h.point.read ?? 0) + (h.point.written ?? 0)),
      `read ${fmt.rate(h.point.read)} · written ${fmt.rate(h.point.written)}`,
    ),
  );
  const charts = liveCharts(state.points);
  for (const [id, chart] of liveCharts_) if (id in charts) chart.update(charts[id as keyof typeof charts]);
  const more = (n: number, shown: number, what: string): string =>
    n > shown ? ` (the ${shown} ${what} of ${n})` : '';
  $('fs-table').replaceChildren(
    table(
      FS_HEADERS,
      filesystemRows(h.filesystems.list),
      `Filesystems${more(h.filesystems.count, h.filesystems.list.length, 'fullest')}`,
      'No filesystems reported.',
    ),
  );
  $('fs-more').textContent = more(h.filesystems.count, h.filesystems.list.length, 'fullest');
  $('containers-table').replaceChildren(
    table(CONTAINER_HEADERS, containerRows(c.list), 'Containers', 'No containers reported.'),
  );
  $('containers-more').textContent = more(c.count, c.list.length, 'busiest');
}

// ---- history -------------------------------------------------------------------------------------

/** GET `api/v1/<route>` with the range of the view; the answer's `data`, or an error with its message. */
async function api<T>(
  route: string,
  params: Record<string, string>,
  from: number,
  to: number,
  signal?: AbortSignal,
): Promise<T> {
  const q = new URLSearchParams(params);
  q.set('from', String(Math.floor(from)));
  q.set('to', String(Math.ceil(to)));
  q.set('points', String(HISTORY_POINTS));
  const res = await fetch(`api/v1/${route}?${q.toString()}`, {
    headers: { Accept: 'application/json' },
    ...(signal === undefined ? {} : { signal }),
  });
  const body = (await res.json()) as { data?: T; message?: string };
  if (!res.ok || body.data === undefined) throw new Error(body.message ?? `HTTP ${res.status}`);
  return body.data;
}

/** Points per series History asks for: about one per two pixels of a wide chart. */
const HISTORY_POINTS = 600;

/** Runs the tasks, at most `limit` at a time. */
async function pool<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array<T>(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        const task = tasks[i];
        if (task !== undefined) out[i] = await task();
      }
    }),
  );
  return out;
}

/** Aborts the requests of a History load that a newer one replaced. */
let historyAbort: AbortController | undefined;

async function loadHistory(): Promise<void> {
  const generation = ++state.historyGeneration;
  historyAbort?.abort();
  const abort = new AbortController();
  historyAbort = abort;
  const instance = state.instance;
  if (instance === '') return;
  const range = RANGES.find((r) => r.id === state.range) ?? RANGES[1];
  const to = state.zoom?.max ?? Math.floor(Date.now() / 1000);
  const from = state.zoom?.min ?? to - (range?.seconds ?? 86_400);
  for (const b of document.querySelectorAll<HTMLButtonElement>('#ranges button'))
    b.setAttribute('aria-pressed', String(b.dataset.range === state.range));
  for (const id of ['zoom-reset', 'pan-earlier', 'pan-later']) $(id).hidden = state.zoom === undefined;
  $('history-info').textContent = 'Loading…';
  document.body.dataset.historyState = 'loading';
  const m = { 'match[instance]': instance };
  const series = (metric: string) => (): Promise<SeriesAnswer | undefined> =>
    api<SeriesAnswer>('series', { metric, ...m }, from, to).then((a) =>
      a.series.length === 0 ? undefined : a,
    );
  // Counters are summed on the server (any number of CPUs and devices): one answer each.
  const rates =
    (metric: string, extra: Record<string, string> = {}) =>
    (): Promise<RatesAnswer> =>
      api<RatesAnswer>('rates', { metric, ...m, ...extra }, from, to, abort.signal);
  try {
    const tasks = {
      cpu: rates('node_cpu_seconds_total', { by: 'mode' }),
      memTotal: series('node_memory_MemTotal_bytes'),
      memAvailable: series('node_memory_MemAvailable_bytes'),
      load1: series('node_load1'),
      load5: series('node_load5'),
      load15: series('node_load15'),
      rx: rates('node_network_receive_bytes_total', { 'exclude[device]': 'lo' }),
      tx: rates('node_network_transmit_bytes_total', { 'exclude[device]': 'lo' }),
      read: rates('node_disk_read_bytes_total'),
      written: rates('node_disk_written_bytes_total'),
      filesystems: () =>
        api<FilesystemsAnswer>(
          'filesystems',
          { instance, top: String(CHART_FILESYSTEMS) },
          from,
          to,
          abort.signal,
        ),
      containers: () =>
        api<ContainersAnswer>(
          'containers',
          { instance, top: String(CHART_CONTAINERS) },
          from,
          to,
          abort.signal,
        ),
    };
    const keys = Object.keys(tasks) as (keyof typeof tasks)[];
    const results = await pool<unknown>(
      keys.map((k) => tasks[k] as () => Promise<unknown>),
      4,
    );
    if (generation !== state.historyGeneration) return;
    const answers = Object.fromEntries(
      keys.flatMap((k, i) => (results[i] === undefined ? [] : [[k, results[i]]])),
    ) as HistoryAnswers;
    const charts = historyCharts(answers);
    for (const [id, chart] of historyCharts_) {
      chart.update(charts[id]);
      chart.setRange(from, to);
    }
    const first = answers.cpu !== undefined && answers.cpu.series_count > 0 ? answers.cpu : answers.load1;
    $('history-info').textContent =
      first === undefined
        ? 'No history for this host in this range.'
        : `${fmt.time(from)} – ${fmt.time(to)} · ${first.source === 'raw' ? 'raw samples' : 'hourly rollups'}, a point every ${fmt.duration(first.step)}${state.zoom === undefined ? ' · drag on a chart to zoom' : ' · double-click a chart to reset'}`;
    document.body.dataset.historyState = 'ready';
    document.body.dataset.historyFrom = String(from);
    document.body.dataset.historyTo = String(to);
  } catch (err) {
    if (generation !== state.historyGeneration) return;
    $('history-info').textContent =
      `Could not load the history: ${err instanceof Error ? err.message : String(err)}`;
    document.body.dataset.historyState = 'error';
  }
}

/** Every History chart drawn over [min, max] (they share it), with the data they have. */
function showRange(min: number, max: number): void {
  for (const c of historyCharts_.values()) c.setRange(min, max);
}

let zoomQueued: { min: number; max: number } | undefined;

/**
 * Shows [min, max] at once and loads it. A drag selects on every synchronised chart, and each reports
 * it: the first report of a gesture counts, the others (in the same task) are dropped, so the span is
 * drawn and loaded once, not once per chart.
 */
function zoomTo(min: number, max: number): void {
  if (!(max - min >= 60) || zoomQueued !== undefined) return;
  zoomQueued = { min, max };
  queueMicrotask(() => {
    const z = zoomQueued;
    zoomQueued = undefined;
    if (z === undefined) return;
    state.zoom = { min: Math.floor(z.min), max: Math.ceil(z.max) };
    showRange(z.min, z.max);
    void loadHistory();
  });
}

/** Earlier / Later: moves a zoomed view by half its span, and loads it. */
function panBy(direction: -1 | 1): void {
  const z = state.zoom;
  if (z === undefined) return;
  const shift = (direction * (z.max - z.min)) / 2;
  const max = Math.min(Math.floor(Date.now() / 1000), z.max + shift);
  zoomTo(max - (z.max - z.min), max);
}

function resetZoom(): void {
  if (state.zoom === undefined) return;
  state.zoom = undefined;
  void loadHistory();
}

// ---- alerts --------------------------------------------------------------------------------------

async function loadAlerts(): Promise<void> {
  const q = new URLSearchParams({ limit: '100' });
  if (!state.allAlerts && state.instance !== '') q.set('instance', state.instance);
  const firingEl = $('alerts-firing');
  const resolvedEl = $('alerts-resolved');
  try {
    const res = await fetch(`api/v1/alerts?${q.toString()}`);
    const body = (await res.json()) as {
      data?: { firing: Alert[]; resolved: Alert[]; firing_total: number; resolved_total: number };
      message?: string;
    };
    if (!res.ok || body.data === undefined) throw new Error(body.message ?? `HTTP ${res.status}`);
    const d = body.data;
    const sev = (a: Alert): HTMLElement =>
      el('span', a.severity ?? '–', `severity severity-${a.severity ?? 'none'}`);
    firingEl.replaceChildren(
      table(
        ['Alert', 'Severity', 'Instance', 'Since', 'For', 'Summary'],
        d.firing.map((a) => [
          a.alertname,
          sev(a),
          a.instance ?? '–',
          fmt.time(a.starts_at),
          fmt.duration(a.firing_seconds),
          a.summary ?? '',
        ]),
        'Firing alerts',
        'Nothing is firing. (The alert history is kept when the sink runs with --web.enable-alertmanager-webhook.)',
      ),
    );
    resolvedEl.replaceChildren(
      table(
        ['Alert', 'Severity', 'Instance', 'Started', 'Lasted', 'Summary'],
        d.resolved.map((a) => [
          a.alertname,
          sev(a),
          a.instance ?? '–',
          fmt.time(a.starts_at),
          fmt.duration(a.duration_seconds),
          a.summary ?? '',
        ]),
        'Resolved alerts',
        'No alert resolved in the last 7 days.',
      ),
    );
    $('alerts-count').textContent =
      `${d.firing_total} firing · ${d.resolved_total} resolved in the last 7 days`;
    document.body.dataset.alertsState = 'ready';
  } catch (err) {
    firingEl.replaceChildren(
      el('p', `Could not load the alerts: ${err instanceof Error ? err.message : String(err)}`, 'note'),
    );
    resolvedEl.replaceChildren();
    document.body.dataset.alertsState = 'error';
  }
}

// ---- tabs ----------------------------------------------------------------------------------------

const TABS: readonly Tab[] = ['live', 'history', 'alerts'];

function showTab(tab: Tab, focus = false): void {
  state.tab = tab;
  writeHash();
  for (const t of TABS) {
    const button = $(`tab-${t}`);
    const selected = t === tab;
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(`panel-${t}`).hidden = !selected;
    if (selected && focus) button.focus();
  }
  document.body.dataset.tab = tab;
  if (tab === 'history') void loadHistory();
  if (tab === 'alerts') void loadAlerts();
  // Charts laid out while hidden have no width: size them now.
  requestAnimationFrame(() => {
    for (const c of allCharts()) c.resize();
  });
}

function setupTabs(): void {
  for (const t of TABS) {
    const button = $(`tab-${t}`);
    button.addEventListener('click', () => showTab(t));
    button.addEventListener('keydown', (e) => {
      const i = TABS.indexOf(t);
      let next: Tab | undefined;
      if (e.key === 'ArrowRight') next = TABS[(i + 1) % TABS.length];
      else if (e.key === 'ArrowLeft') next = TABS[(i + TABS.length - 1) % TABS.length];
      else if (e.key === 'Home') next = TABS[0];
      else if (e.key === 'End') next = TABS[TABS.length - 1];
      if (next !== undefined) {
        e.preventDefault();
        showTab(next, true);
      }
    });
  }
}

function setupRanges(): void {
  const group = $('ranges');
  for (const r of RANGES) {
    const b = el('button', r.label);
    b.type = 'button';
    b.dataset.range = r.id;
    b.setAttribute('aria-pressed', String(r.id === state.range));
    b.addEventListener('click', () => {
      state.range = r.id;
      state.zoom = undefined;
      writeHash();
      void loadHistory();
    });
    group.append(b);
  }
  $('zoom-reset').addEventListener('click', () => resetZoom());
  $('pan-earlier').addEventListener('click', () => panBy(-1));
  $('pan-later').addEventListener('click', () => panBy(1));
}

async function loadDbHosts(): Promise<void> {
  try {
    const res = await fetch('api/v1/overview');
    if (!res.ok) return;
    const body = (await res.json()) as { data?: { hosts: DbHost[] } };
    state.db = body.data?.hosts ?? [];
    renderHostPicker();
    renderLive();
  } catch {
    // The database may be away; the live stream does not need it.
  }
}

function main(): void {
  readHash();
  makeCharts($('live-charts'), CHARTS, liveCharts_, 'live', false);
  makeCharts($('history-charts'), [...CHARTS, ...CONTAINER_CHARTS], historyCharts_, 'history', true);
  setupTabs();
  setupRanges();
  $<HTMLSelectElement>('host').addEventListener('change', (e) =>
    selectHost((e.target as HTMLSelectElement).value),
  );
  $<HTMLInputElement>('alerts-all').addEventListener('change', (e) => {
    state.allAlerts = (e.target as HTMLInputElement).checked;
    void loadAlerts();
  });
  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    document.body.dataset.theme = isDark() ? 'dark' : 'light';
    for (const c of allCharts()) c.retheme();
  });
  document.body.dataset.theme = isDark() ? 'dark' : 'light';
  let pending = false;
  let width = -1;
  // The charts follow the page's width. Its height changes with every table and text update (a live
  // round, a history load), and re-sizing every chart then (a new canvas each) cost frames of 100 ms.
  new ResizeObserver((entries) => {
    const w = entries[entries.length - 1]?.contentRect.width ?? width;
    if (w === width || pending) return;
    width = w;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      for (const c of allCharts()) c.resize();
    });
  }).observe($('main'));
  showTab(state.tab);
  connect();
  void loadDbHosts();
  // For tests and the curious: the charts' uPlot instances and the page state, read-only by convention.
  (window as unknown as { hostscope: unknown }).hostscope = {
    state,
    charts: { live: liveCharts_, history: historyCharts_ },
  };
}

main();
