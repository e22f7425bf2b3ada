import type { Labels, MetricFamily, MetricType, Sample } from './types';

interface MutableFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

/**
 * Accumulates samples into families by name. Collectors use it so that a family's help and type are
 * declared once and every sample of the same name lands in the same family.
 */
export class MetricSet {
  private readonly byName = new Map<string, MutableFamily>();

  add(name: string, type: MetricType, help: string, value: number, labels: Labels = {}): this {
    let family = this.byName.get(name);
    if (family === undefined) {
      family = { name, help, type, samples: [] };
      this.byName.set(name, family);
    }
    family.samples.push({ labels, value });
    return this;
  }

  gauge(name: string, help: string, value: number, labels: Labels = {}): this {
    return this.add(name, 'gauge', help, value, labels);
  }

  counter(name: string, help: string, value: number, labels: Labels = {}): this {
    return this.add(name, 'counter', help, value, labels);
  }

  untyped(name: string, help: string, value: number, labels: Labels = {}): this {
    return this.add(name, 'untyped', help, value, labels);
  }

  /** Adds a whole family (e.g. a histogram built elsewhere); samples merge with any already present. */
  addFamily(family: MetricFamily): this {
    const existing = this.byName.get(family.name);
    if (existing === undefined) {
      this.byName.set(family.name, { ...family, samples: [...family.samples] });
    } else {
      existing.samples.push(...family.samples);
    }
    return this;
  }

  families(): MetricFamily[] {
    return [...this.byName.values()];
  }
}
