/**
 * A small, typed builder for Grafana (10.4) dashboard JSON. Dashboards are code: every panel names its
 * unit, every query goes through the dashboard's `$datasource` variable (never a datasource uid), and
 * grid positions are computed, so panels are added without hand-placing coordinates.
 */

export type DatasourceType = 'prometheus' | 'grafana-postgresql-datasource';

export type DatasourceRef = { readonly type: DatasourceType; readonly uid: string };

/** The datasource of every panel and query: the dashboard's `datasource` variable. */
export function datasourceRef(type: DatasourceType): DatasourceRef {
  return { type, uid: '${datasource}' };
}

export interface PromQuery {
  readonly expr: string;
  readonly legend?: string;
  /** Instant query (tables, stats of the latest value). */
  readonly instant?: boolean;
}

export interface SqlQuery {
  readonly sql: string;
  readonly format: 'time_series' | 'table';
}

export type Query = PromQuery | SqlQuery;

export type PanelType = 'timeseries' | 'stat' | 'table' | 'bargauge' | 'state-timeline';

/** Units Grafana knows (a subset); `suffix:<text>` is Grafana's custom-suffix unit. */
export type Unit =
  | 'bytes'
  | 'Bps'
  | 's'
  | 'percent'
  | 'percentunit'
  | 'short'
  | 'none'
  | 'iops'
  | 'pps'
  | 'cps'
  | 'ops'
  | 'reqps'
  | 'dateTimeAsIso'
  | `suffix:${string}`;

export interface PanelSpec {
  readonly type: PanelType;
  readonly title: string;
  readonly description?: string;
  readonly unit: Unit;
  readonly queries: readonly Query[];
  /** Width in grid columns (of 24) and height in rows. */
  readonly w: number;
  readonly h: number;
  readonly min?: number;
  readonly max?: number;
  readonly decimals?: number;
  /** Stacked areas (timeseries). */
  readonly stack?: boolean;
  /** Value mappings such as 0 -> failing. */
  readonly mappings?: readonly ValueMapping[];
  readonly thresholds?: readonly Threshold[];
  readonly transformations?: readonly Transformation[];
  /** Per-field overrides (units of table columns, display names). */
  readonly overrides?: readonly Override[];
  readonly options?: Readonly<Record<string, unknown>>;
  /**
   * A panel of another datasource than the dashboard's (a PostgreSQL panel on a Prometheus dashboard):
   * the datasource variable it goes through, declared in the dashboard's variables.
   */
  readonly source?: DatasourceVariable;
}

export interface ValueMapping {
  readonly value: string;
  readonly text: string;
  readonly color: string;
}

export interface Threshold {
  readonly value: number | null;
  readonly color: string;
}

export interface Transformation {
  readonly id: string;
  readonly options: Readonly<Record<string, unknown>>;
}

export interface Override {
  /** A field (series or column) name, or with `regex` a regular expression over names. */
  readonly field: string;
  readonly regex?: boolean;
  readonly properties: readonly { readonly id: string; readonly value: unknown }[];
}

/** A row header, then the panels under it. */
export interface Section {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

export interface DatasourceVariable {
  readonly kind: 'datasource';
  /** `datasource` for the dashboard's own; another name for a second source (see PanelSpec.source). */
  readonly name: string;
  readonly label: string;
  readonly pluginType: DatasourceType;
}

export interface QueryVariable {
  readonly kind: 'query';
  readonly name: string;
  readonly label: string;
  /** `label_values(metric{...}, label)` for Prometheus, a SELECT for PostgreSQL. */
  readonly query: string;
  readonly multi: boolean;
  readonly includeAll: boolean;
  /** Value of "All" (a regex for Prometheus); default: every value. */
  readonly allValue?: string;
}

export interface CustomVariable {
  readonly kind: 'custom';
  readonly name: string;
  readonly label: string;
  readonly values: readonly string[];
  readonly current: string;
}

export type Variable = DatasourceVariable | QueryVariable | CustomVariable;

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly datasource: DatasourceType;
  readonly variables: readonly Variable[];
  readonly sections: readonly Section[];
  readonly time?: { readonly from: string; readonly to: string };
  readonly refresh?: string;
}

type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json | undefined };
export type JsonObject = { readonly [key: string]: Json | undefined };

export const SCHEMA_VERSION = 39;
const GRID_WIDTH = 24;

export function isSqlQuery(q: Query): q is SqlQuery {
  return 'sql' in q;
}

function target(q: Query, refId: string, ds: DatasourceRef): JsonObject {
  if (isSqlQuery(q)) {
    return { refId, datasource: ds, editorMode: 'code', rawQuery: true, format: q.format, rawSql: q.sql };
  }
  const instant = q.instant === true;
  return {
    refId,
    datasource: ds,
    editorMode: 'code',
    expr: q.expr,
    legendFormat: q.legend ?? '__auto',
    range: !instant,
    instant,
    ...(instant ? { format: 'table' } : {}),
  };
}

function refIdOf(i: number): string {
  return String.fromCharCode('A'.charCodeAt(0) + i);
}

function panelOptions(spec: PanelSpec): JsonObject {
  const base: Record<string, Json> = {};
  switch (spec.type) {
    case 'timeseries':
      base.legend = {
        displayMode: 'table',
        placement: 'bottom',
        showLegend: true,
        calcs: ['mean', 'max', 'lastNotNull'],
      };
      base.tooltip = { mode: 'multi', sort: 'desc' };
      break;
    case 'stat':
      base.reduceOptions = { calcs: ['lastNotNull'], fields: '', values: false };
      base.colorMode = 'value';
      base.graphMode = 'area';
      base.textMode = 'auto';
      base.justifyMode = 'auto';
      base.orientation = 'auto';
      break;
    case 'bargauge':
      base.reduceOptions = { calcs: ['lastNotNull'], fields: '', values: false };
      base.displayMode = 'gradient';
      base.orientation = 'horizontal';
      base.showUnfilled = true;
      break;
    case 'table':
      base.showHeader = true;
      base.cellHeight = 'sm';
      base.footer = { show: false, reducer: ['sum'], countRows: false };
      break;
    case 'state-timeline':
      base.showValue = 'never';
      base.mergeValues = true;
      base.rowHeight = 0.9;
      base.legend = { displayMode: 'list', placement: 'bottom', showLegend: true };
      break;
  }
  return { ...base, ...(spec.options as JsonObject | undefined) };
}

function fieldDefaults(spec: PanelSpec): JsonObject {
  const custom: Record<string, Json> = {};
  if (spec.type === 'timeseries') {
    custom.drawStyle = 'line';
    custom.lineWidth = 1;
    custom.fillOpacity = spec.stack === true ? 40 : 10;
    custom.showPoints = 'never';
    custom.spanNulls = false;
    custom.stacking = { mode: spec.stack === true ? 'normal' : 'none', group: 'A' };
  }
  if (spec.type === 'table') {
    custom.align = 'auto';
    custom.filterable = true;
  }
  const thresholds = spec.thresholds ?? [
    { value: null, color: 'green' },
    ...(spec.unit === 'percentunit'
      ? [
          { value: 0.8, color: 'orange' },
          { value: 0.9, color: 'red' },
        ]
      : []),
  ];
  return {
    unit: spec.unit,
    ...(spec.min === undefined ? {} : { min: spec.min }),
    ...(spec.max === undefined ? {} : { max: spec.max }),
    ...(spec.decimals === undefined ? {} : { decimals: spec.decimals }),
    color: { mode: spec.type === 'timeseries' ? 'palette-classic' : 'thresholds' },
    thresholds: { mode: 'absolute', steps: thresholds.map((t) => ({ value: t.value, color: t.color })) },
    mappings: (spec.mappings ?? []).map((m) => ({
      type: 'value',
      options: { [m.value]: { text: m.text, color: m.color } },
    })),
    custom,
  };
}

function variableJson(v: Variable, dsType: DatasourceType): JsonObject {
  switch (v.kind) {
    case 'datasource':
      return {
        name: v.name,
        label: v.label,
        type: 'datasource',
        query: v.pluginType,
        regex: '',
        hide: 0,
        refresh: 1,
        current: {},
        options: [],
      };
    case 'custom':
      return {
        name: v.name,
        label: v.label,
        type: 'custom',
        query: v.values.join(','),
        current: { selected: true, text: v.current, value: v.current },
        options: v.values.map((value) => ({ selected: value === v.current, text: value, value })),
        hide: 0,
        multi: false,
        includeAll: false,
      };
    case 'query':
      return {
        name: v.name,
        label: v.label,
        type: 'query',
        datasource: datasourceRef(dsType),
        query: v.query,
        definition: v.query,
        refresh: 2,
        sort: 1,
        regex: '',
        hide: 0,
        multi: v.multi,
        includeAll: v.includeAll,
        ...(v.allValue === undefined ? {} : { allValue: v.allValue }),
        current: {},
        options: [],
      };
  }
}

/** Builds the dashboard JSON Grafana provisions. Panel ids and grid positions are assigned in order. */
export function buildDashboard(spec: DashboardSpec): JsonObject {
  const ds = datasourceRef(spec.datasource);
  const panels: JsonObject[] = [];
  let id = 1;
  let y = 0;
  for (const section of spec.sections) {
    panels.push({
      id: id++,
      type: 'row',
      title: section.title,
      collapsed: false,
      gridPos: { h: 1, w: GRID_WIDTH, x: 0, y },
      panels: [],
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of section.panels) {
      if (p.w > GRID_WIDTH || p.w < 1) throw new Error(`${spec.uid}: panel "${p.title}" has width ${p.w}`);
      if (x + p.w > GRID_WIDTH) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      if (p.source !== undefined && !spec.variables.includes(p.source))
        throw new Error(`${spec.uid}: panel "${p.title}" uses undeclared variable $${p.source.name}`);
      const pds: DatasourceRef =
        p.source === undefined ? ds : { type: p.source.pluginType, uid: `\${${p.source.name}}` };
      panels.push({
        id: id++,
        type: p.type,
        title: p.title,
        ...(p.description === undefined ? {} : { description: p.description }),
        datasource: pds,
        gridPos: { h: p.h, w: p.w, x, y },
        targets: p.queries.map((q, i) => target(q, refIdOf(i), pds)),
        fieldConfig: {
          defaults: fieldDefaults(p),
          overrides: (p.overrides ?? []).map((o) => ({
            matcher: { id: o.regex === true ? 'byRegexp' : 'byName', options: o.field },
            properties: o.properties.map((prop) => ({ id: prop.id, value: prop.value as Json })),
          })),
        },
        options: panelOptions(p),
        ...(p.transformations === undefined
          ? {}
          : {
              transformations: p.transformations.map((t) => ({ id: t.id, options: t.options as JsonObject })),
            }),
      });
      x += p.w;
      rowHeight = Math.max(rowHeight, p.h);
    }
    y += rowHeight;
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: [...spec.tags],
    editable: false,
    graphTooltip: 1,
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    timezone: 'browser',
    time: spec.time ?? { from: 'now-6h', to: 'now' },
    refresh: spec.refresh ?? '30s',
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: '',
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    links: [
      {
        title: 'hostscope',
        type: 'dashboards',
        tags: ['hostscope'],
        asDropdown: true,
        includeVars: false,
        keepTime: true,
        icon: 'external link',
        targetBlank: false,
        tooltip: '',
        url: '',
      },
    ],
    templating: { list: spec.variables.map((v) => variableJson(v, spec.datasource)) },
    panels,
  };
}

/** Prometheus label matchers joined for a selector body: sel('job=~"$job"', 'mode="idle"'). */
/** Thresholds of a "how many are wrong" stat: green at 0, `color` from 1 up. */
export function nonZero(color: 'orange' | 'red'): readonly Threshold[] {
  return [
    { value: null, color: 'green' },
    { value: 1, color },
  ];
}

export function sel(...matchers: readonly string[]): string {
  return matchers.filter((m) => m !== '').join(', ');
}

export const PROMETHEUS_DATASOURCE: DatasourceVariable = {
  kind: 'datasource',
  name: 'datasource',
  label: 'Data source',
  pluginType: 'prometheus',
};

export const POSTGRES_DATASOURCE: DatasourceVariable = {
  kind: 'datasource',
  name: 'datasource',
  label: 'Data source',
  pluginType: 'grafana-postgresql-datasource',
};

/** The alert history database on a Prometheus dashboard (its PostgreSQL panels go through it). */
export const HISTORY_DATASOURCE: DatasourceVariable = {
  kind: 'datasource',
  name: 'history',
  label: 'History (PostgreSQL)',
  pluginType: 'grafana-postgresql-datasource',
};
