import { formatLabels } from '../../../src/exposition/labels';
import {
  assemble,
  LabelCache,
  SampleList,
  SeriesOrder,
  type Entry,
} from '../../../src/collectors/docker/families';
import type { Sample } from '../../../src/metrics/types';

const FIGURES = { up: true, apiFallback: false, machine: undefined };
const texts = (samples: readonly Sample[]): string[] => samples.map((s) => formatLabels(s.labels).text);

describe('SampleList', () => {
  it('rewrites the values of the same series in place, keeping sample and extra-label objects', () => {
    const list = new SampleList();
    list.begin().push('container_memory_rss', 1);
    list.push('container_network_receive_bytes_total', 10, { interface: 'eth0' });
    const first = [...list.end()];
    const firstExtra = first[1]?.extra;

    list.begin().push('container_memory_rss', 2);
    list.push('container_network_receive_bytes_total', 20, { interface: 'eth0' });
    const second = list.end();
    expect(second.map((o) => o.value)).toEqual([2, 20]);
    expect(second[0]).toBe(first[0]);
    expect(second[1]).toBe(first[1]);
    expect(second[1]?.extra).toBe(firstExtra);
  });

  it('replaces what changed and drops what is no longer pushed', () => {
    const list = new SampleList();
    list.begin().push('container_memory_rss', 1);
    list.push('container_network_receive_bytes_total', 10, { interface: 'eth0' });
    list.push('container_network_receive_bytes_total', 11, { interface: 'eth1' });
    const before = [...list.end()];

    list.begin().push('container_memory_rss', 2);
    list.push('container_network_receive_bytes_total', 30, { interface: 'eth9' });
    const after = list.end();
    expect(after).toHaveLength(2);
    expect(after[1]).not.toBe(before[1]);
    expect(after[1]).toEqual({
      name: 'container_network_receive_bytes_total',
      value: 30,
      extra: { interface: 'eth9' },
    });
    // The replaced sample object is not changed: a snapshot taken earlier keeps its value.
    expect(before[1]?.value).toBe(10);
  });
});

describe('SeriesOrder', () => {
  const sample = (labels: Record<string, string>, value = 0): Sample => ({ labels, value });

  it('sorts by label text and reuses the order while the label objects are the same', () => {
    const a = { name: 'a' };
    const b = { name: 'b' };
    const c = { name: 'c' };
    const order = new SeriesOrder();
    expect(texts(order.sort('f', [sample(c), sample(a), sample(b)]))).toEqual([
      '{name="a"}',
      '{name="b"}',
      '{name="c"}',
    ]);
    // Same label objects in the same sequence: the kept order applies to this scrape's samples.
    const again = order.sort('f', [sample(c, 3), sample(a, 1), sample(b, 2)]);
    expect(again.map((s) => s.value)).toEqual([1, 2, 3]);
  });

  it('sorts afresh when a series comes, goes or changes', () => {
    const order = new SeriesOrder();
    order.sort('f', [sample({ name: 'b' }), sample({ name: 'a' })]);
    // New objects with other values: the old order would be wrong.
    expect(
      texts(order.sort('f', [sample({ name: 'a' }), sample({ name: 'z' }), sample({ name: 'm' })])),
    ).toEqual(['{name="a"}', '{name="m"}', '{name="z"}']);
    expect(texts(order.sort('f', [sample({ name: 'y' }), sample({ name: 'x' })]))).toEqual([
      '{name="x"}',
      '{name="y"}',
    ]);
  });
});

describe('assemble', () => {
  it('emits every family in label-text order, with every container label name on every series', () => {
    const entry = (name: string, labels: Record<string, string>, rss: number): Entry => {
      const samples = new SampleList();
      samples.begin().push('container_memory_rss', rss);
      samples.push('container_network_receive_bytes_total', rss, { interface: 'eth0' });
      return {
        base: { id: `/docker/${name}`, name, image: 'img', ...labels },
        samples: samples.end(),
        more: [],
        cache: new LabelCache(),
      };
    };
    const entries = [
      entry('web', { container_label_tier: 'front' }, 3),
      entry('db', {}, 1),
      entry('api', { container_label_tier: 'back' }, 2),
    ];
    const families = assemble(entries, FIGURES);
    const rss = families.find((f) => f.name === 'container_memory_rss');
    expect(rss?.samples.map((s) => [s.labels.name, s.labels.container_label_tier, s.value])).toEqual([
      ['db', '', 1],
      ['api', 'back', 2],
      ['web', 'front', 3],
    ]);
    const keys = texts(
      families.find((f) => f.name === 'container_network_receive_bytes_total')?.samples ?? [],
    );
    expect([...keys].sort()).toEqual(keys);
  });
});
