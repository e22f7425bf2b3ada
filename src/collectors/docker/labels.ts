/**
 * Container labels as cAdvisor exports them (`container_label_<sanitised key>`), with hostscope's
 * cardinality control: an include and an exclude regex on the Docker label key. Compose's project and
 * service labels are kept even when the include regex does not name them (the exclude regex still wins),
 * so narrowing the include list never breaks the usual per-service dashboards.
 */

export const CONTAINER_LABEL_PREFIX = 'container_label_';

/** Labels kept by default whatever the include regex says. */
export const COMPOSE_LABELS: readonly string[] = ['com.docker.compose.project', 'com.docker.compose.service'];

const INVALID_LABEL_CHAR = /[^a-zA-Z0-9_]/gu;

/** cAdvisor's sanitizeLabelName: every character (code point) outside [a-zA-Z0-9_] becomes `_`. */
export function sanitizeLabelKey(key: string): string {
  return key.replace(INVALID_LABEL_CHAR, '_');
}

export class LabelFilter {
  /** Decisions per label key: keys repeat across containers and scrapes, so each regex runs once per key. */
  private readonly decided = new Map<string, boolean>();

  constructor(
    private readonly include: RegExp | undefined,
    private readonly exclude: RegExp | undefined,
  ) {}

  keeps(key: string): boolean {
    let keep = this.decided.get(key);
    if (keep === undefined) {
      const included = this.include === undefined || this.include.test(key) || COMPOSE_LABELS.includes(key);
      keep = included && !(this.exclude !== undefined && this.exclude.test(key));
      if (this.decided.size < 10_000) this.decided.set(key, keep);
    }
    return keep;
  }

  /**
   * `container_label_*` labels of one container, keys sorted so that when two keys sanitise to the same
   * name the first one in byte order wins (cAdvisor's choice depends on Go map order).
   */
  containerLabels(labels: Readonly<Record<string, string>> | null | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    if (labels === null || labels === undefined) return out;
    for (const key of Object.keys(labels).sort()) {
      if (!this.keeps(key)) continue;
      const name = CONTAINER_LABEL_PREFIX + sanitizeLabelKey(key);
      if (name in out) continue;
      out[name] = labels[key] ?? '';
    }
    return out;
  }
}
