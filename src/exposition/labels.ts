import type { Labels } from '../metrics/types';
import { escapeLabelValue, isValidLabelName } from './escape';

/** `{a="x",b="y"}` with names sorted, or `` for no labels; `valid` is false for an invalid label name. */
export interface FormattedLabels {
  readonly text: string;
  readonly valid: boolean;
}

/**
 * Memo of formatted label sets, keyed by the (immutable) label object. Collectors that keep their label
 * objects across scrapes (the docker collector's hundreds of containers) then pay for sorting and
 * escaping once per series instead of once per scrape. A WeakMap: entries go with their label objects.
 */
const memo = new WeakMap<Labels, FormattedLabels>();
const EMPTY: FormattedLabels = { text: '', valid: true };

export function formatLabels(labels: Labels): FormattedLabels {
  const cached = memo.get(labels);
  if (cached !== undefined) return cached;
  const names = Object.keys(labels);
  let result = EMPTY;
  if (names.length > 0) {
    if (names.length > 1) names.sort();
    let text = '{';
    let valid = true;
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      if (!isValidLabelName(name)) valid = false;
      if (i > 0) text += ',';
      text += `${name}="${escapeLabelValue(labels[name] as string)}"`;
    }
    result = { text: text + '}', valid };
    memo.set(labels, result);
  }
  // An empty label set needs no memo entry: the lookup would cost more than the answer.
  return result;
}
