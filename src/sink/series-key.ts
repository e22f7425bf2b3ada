import * as crypto from 'node:crypto';
import type { Target } from './types';

/** One-shot SHA-256 (crypto.hash, Node 20.12+: no Hash object per call; a cold start hashes 300k keys twice). */
const sha256 = (text: string): Buffer =>
  typeof crypto.hash === 'function'
    ? crypto.hash('sha256', text, 'buffer')
    : crypto.createHash('sha256').update(text, 'utf8').digest();

/**
 * Series identity. PostgreSQL text cannot hold NUL, so NUL characters (the only thing that cannot be
 * stored verbatim) become U+FFFD; everything else, quotes, SQL, any unicode, any length, is kept as is.
 */
export function pgSafe(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

/**
 * The labels a sample is stored with: the exposition's labels, where the target's labels (`instance`,
 * `job` and those from a file_sd file) win and clashing exposed ones are kept as `exported_<name>`
 * (Prometheus' honor_labels: false). Labels with an empty value are dropped, as Prometheus does. Sorted by
 * name. A target without a job or instance (remote write: they come from the series) adds none.
 */
export function storedLabels(labels: Readonly<Record<string, string>>, target: Target): [string, string][] {
  const own = target.labels;
  const out: [string, string][] = [];
  for (const name of Object.keys(labels)) {
    const value = labels[name] as string;
    if (value === '') continue; // an empty label is no label (Prometheus)
    if (name === 'instance' || name === 'job' || (own !== undefined && Object.hasOwn(own, name)))
      out.push([pgSafe(`exported_${name}`), pgSafe(value)]);
    else out.push([pgSafe(name), pgSafe(value)]);
  }
  // A label already named exported_instance loses to the renamed one, as in Prometheus.
  const seen = new Map<string, string>();
  for (const [k, v] of out) seen.set(k, v);
  if (own !== undefined)
    for (const [k, v] of Object.entries(own)) if (v !== '') seen.set(pgSafe(k), pgSafe(v));
  // Remote-written series carry their own job and instance (possibly none): an empty one is not added.
  if (target.instance !== '') seen.set('instance', target.instance);
  if (target.job !== '') seen.set('job', target.job);
  return [...seen.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Canonical identity text of a stored series: metric name and sorted labels, NUL-separated. */
export function canonicalKey(metric: string, labels: readonly (readonly [string, string])[]): string {
  let key = metric;
  for (const [k, v] of labels) key += `\u0000${k}\u0000${v}`;
  return key;
}

export function sha256Hex(text: string): string {
  return sha256(text).toString('hex');
}

export function labelsJson(labels: readonly (readonly [string, string])[]): string {
  const obj: Record<string, string> = {};
  for (const [k, v] of labels) obj[k] = v;
  return JSON.stringify(obj);
}

/**
 * Fast, order-dependent cache key of a sample as scraped (no sorting): the same exposition line from the
 * same target always gives the same key. Distinct keys may map to the same series id. The key is the
 * first 128 bits of the SHA-256 of an unambiguous text of the line, as a 16-character string: the
 * writer keeps one per series (300k for a big target), and the text itself is 100-200 characters.
 */
export function fastKey(prefix: string, name: string, labels: Readonly<Record<string, string>>): string {
  return sha256(`${prefix}${name.length}:${name}${JSON.stringify(labels)}`).toString('latin1', 0, 16);
}

/** The part of a sample's cache key that its target gives: the labels the target adds to its series. */
export function targetPrefix(target: Target): string {
  return target.labels === undefined
    ? JSON.stringify([target.instance, target.job])
    : JSON.stringify([target.instance, target.job, target.labels]);
}
