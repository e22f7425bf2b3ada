import * as path from 'node:path';
import { isScalar, parseDocument, visit } from 'yaml';
import type { DiscoveredTarget } from './target-set';

/**
 * Prometheus' file-based service discovery format (`file_sd_configs`,
 * https://prometheus.io/docs/prometheus/latest/configuration/configuration/#file_sd_config): a list of
 * target groups `{targets: ["host:port", ...], labels: {name: value, ...}}`, in JSON (`.json`) or YAML
 * (`.yml`, `.yaml`). This module is the pure part: file text in, the targets Prometheus would make of it
 * (or every problem) out. Reading and watching the files is file-sd.ts.
 *
 * What Prometheus does with a group, and so does this:
 * - each target is an address `host[:port]`, its `__address__`; without a port, 80 (or 443 for https) is
 *   added for the URL and the default instance;
 * - the group's labels go on every series of its targets; `instance` defaults to the address and `job` to
 *   the job of the scrape config (here --scrape.job), and either may be set by the file;
 * - labels starting with `__` are not stored: `__scheme__` (http or https) and `__metrics_path__`
 *   (default /metrics) make the URL, `__param_<name>` adds a URL parameter, the rest is dropped;
 * - a label with an empty value is no label;
 * - unknown keys are errors (Prometheus decodes the file strictly), and so are invalid label names.
 * Unlike Prometheus, which skips a target it cannot use and keeps the rest of the file, any problem makes
 * the whole file invalid here: a sink keeps the file's last good targets rather than a part of them.
 */

export const FILE_SD_EXTENSIONS = ['.json', '.yml', '.yaml'] as const;

/** A label name Prometheus accepts (model.LabelName.IsValid, legacy scheme). */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export interface TargetGroup {
  readonly targets: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problems: string[] };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeValue(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

/**
 * The JS value of a YAML text as Go's yaml.v2 fills Prometheus' string fields: a scalar that YAML reads as
 * a number or boolean keeps its text (`port: 9100` -> "9100", `v: 1.50` -> "1.50"), null stays null.
 */
function parseYaml(text: string): ParseResult<unknown> {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0)
    return { ok: false, problems: doc.errors.map((e) => e.message.split('\n')[0] ?? e.message) };
  visit(doc, {
    Scalar(_key, node) {
      if (node.value !== null && typeof node.value !== 'string' && typeof node.source === 'string')
        node.value = node.source;
    },
  });
  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && contents.value === null)) return { ok: true, value: [] };
  return { ok: true, value: doc.toJS() as unknown };
}

/** The target groups of a file_sd file's text; the format comes from the file's extension, as in Prometheus. */
export function parseTargetGroups(text: string, file: string): ParseResult<TargetGroup[]> {
  const ext = path.extname(file).toLowerCase();
  let data: unknown;
  if (ext === '.json') {
    try {
      data = JSON.parse(text) as unknown;
    } catch (err) {
      return { ok: false, problems: [`not valid JSON: ${(err as Error).message}`] };
    }
    if (data === null) data = [];
  } else if (ext === '.yml' || ext === '.yaml') {
    const r = parseYaml(text);
    if (!r.ok) return { ok: false, problems: r.problems.map((p) => `not valid YAML: ${p}`) };
    data = r.value;
  } else {
    return {
      ok: false,
      problems: [`unsupported file extension "${ext}" (file_sd files end in .json, .yml or .yaml)`],
    };
  }
  if (!Array.isArray(data))
    return {
      ok: false,
      problems: [
        `expected a list of target groups ({targets: [...], labels: {...}}), got ${describeValue(data)}`,
      ],
    };
  const problems: string[] = [];
  const groups: TargetGroup[] = [];
  data.forEach((item: unknown, i) => {
    const where = `group ${i}`;
    if (!isObject(item)) {
      problems.push(`${where}: expected {targets: [...], labels: {...}}, got ${describeValue(item)}`);
      return;
    }
    for (const key of Object.keys(item))
      if (key !== 'targets' && key !== 'labels')
        problems.push(`${where}: unknown key "${key}" (a group has only targets and labels)`);
    const targets: string[] = [];
    const rawTargets = item.targets ?? [];
    if (!Array.isArray(rawTargets))
      problems.push(`${where}: targets: expected a list of "host:port" strings`);
    else
      rawTargets.forEach((t: unknown, j) => {
        if (typeof t === 'string') targets.push(t);
        else if (t === null) targets.push('');
        else problems.push(`${where}: targets[${j}]: expected a "host:port" string, got ${describeValue(t)}`);
      });
    const labels: Record<string, string> = {};
    const rawLabels = item.labels ?? {};
    if (!isObject(rawLabels)) problems.push(`${where}: labels: expected a map of label names to values`);
    else
      for (const [name, value] of Object.entries(rawLabels)) {
        if (!LABEL_NAME.test(name)) problems.push(`${where}: labels: "${name}" is not a valid label name`);
        else if (typeof value === 'string') labels[name] = value;
        else if (value === null) labels[name] = '';
        else problems.push(`${where}: labels: ${name}: expected a string, got ${describeValue(value)}`);
      }
    groups.push({ targets, labels });
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: groups };
}

/**
 * Go's net.SplitHostPort, enough to tell whether an address has a port: `host:port`, `[v6]:port`.
 * Returns undefined when the address has none, 'invalid' when it cannot be one (`a:b:c`).
 */
function portOf(address: string): string | undefined | 'invalid' {
  if (address.startsWith('[')) {
    const end = address.indexOf(']');
    if (end < 0) return 'invalid';
    const rest = address.slice(end + 1);
    if (rest === '') return undefined;
    return rest.startsWith(':') && !rest.slice(1).includes(':') ? rest.slice(1) : 'invalid';
  }
  const colons = address.split(':').length - 1;
  if (colons === 0) return undefined;
  return colons === 1 ? address.slice(address.indexOf(':') + 1) : 'invalid';
}

/**
 * The targets of target groups, as Prometheus' scrape manager makes them (scrape/target.go,
 * PopulateLabels): URL, instance, job, and the labels stored on the series. `file` is recorded as the
 * targets' source.
 */
export function groupTargets(
  groups: readonly TargetGroup[],
  options: { readonly job: string; readonly file: string },
): ParseResult<DiscoveredTarget[]> {
  const problems: string[] = [];
  const out: DiscoveredTarget[] = [];
  groups.forEach((group, i) => {
    const scheme = group.labels.__scheme__ || 'http';
    if (scheme !== 'http' && scheme !== 'https') {
      problems.push(`group ${i}: labels: __scheme__: expected http or https, got "${scheme}"`);
      return;
    }
    let metricsPath = group.labels.__metrics_path__ || '/metrics';
    if (!metricsPath.startsWith('/')) metricsPath = `/${metricsPath}`;
    const params = new URLSearchParams();
    const stored: [string, string][] = [];
    for (const name of Object.keys(group.labels).sort()) {
      const value = group.labels[name] ?? '';
      if (name.startsWith('__param_')) {
        if (value !== '') params.set(name.slice('__param_'.length), value);
      } else if (!name.startsWith('__') && name !== 'instance' && name !== 'job' && value !== '')
        stored.push([name, value]);
    }
    const encoded = params.toString();
    const query = encoded === '' ? '' : `?${encoded}`;
    group.targets.forEach((address, j) => {
      const where = `group ${i}: targets[${j}]`;
      if (address === '') {
        problems.push(`${where}: no address`);
        return;
      }
      if (/[/?#@\s]/.test(address)) {
        problems.push(
          `${where}: "${address}" is not a valid host:port (a target is an address, not a URL: set __scheme__ and __metrics_path__ in labels)`,
        );
        return;
      }
      const port = portOf(address);
      if (port === 'invalid') {
        problems.push(`${where}: "${address}" is not a valid host:port`);
        return;
      }
      const withPort = port === undefined ? `${address}:${scheme === 'https' ? 443 : 80}` : address;
      const url = `${scheme}://${withPort}${metricsPath}${query}`;
      try {
        if (new URL(url).hostname === '') throw new Error('no host');
      } catch {
        problems.push(`${where}: "${address}" is not a valid host:port`);
        return;
      }
      out.push({
        target: {
          url,
          instance: group.labels.instance || withPort,
          job: group.labels.job || options.job,
          ...(stored.length > 0 ? { labels: Object.fromEntries(stored) } : {}),
        },
        address,
        source: 'file_sd',
        file: options.file,
      });
    });
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: out };
}

/** A file_sd file's text to its targets, or every problem. */
export function parseFileSd(
  text: string,
  options: { readonly job: string; readonly file: string },
): ParseResult<DiscoveredTarget[]> {
  const groups = parseTargetGroups(text, options.file);
  return groups.ok ? groupTargets(groups.value, options) : groups;
}
