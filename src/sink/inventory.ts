import { createHash } from 'node:crypto';
import type { ParsedFamily, ParsedSample } from '../expfmt/types';
import type { Queryable } from '../db/database';
import { pickSamples } from './families';
import { pgSafe } from './series-key';
import { containerIdFromCgroup, containerStates, hostNameOf } from './usage';
import type { Target } from './types';

export type InventoryKind = 'cpu_info' | 'memory_info' | 'disk_info' | 'network_info' | 'containers';
type ColumnType = 'text' | 'integer' | 'bigint' | 'boolean';
type Cell = string | number | boolean | null;

export interface InventoryItem {
  readonly key: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly columns: Readonly<Record<string, Cell>>;
}

export interface InventorySnapshot {
  readonly instance: string;
  readonly job: string;
  readonly timeMs: number;
  readonly host: InventoryItem;
  /** Kinds the scrape reported (even when empty); a kind not reported is left untouched. */
  readonly kinds: Partial<Record<InventoryKind, readonly InventoryItem[]>>;
  readonly hash: string;
}

interface KindSpec {
  readonly metric: string;
  /** column -> [source label, type] */
  readonly columns: Readonly<Record<string, readonly [string, ColumnType]>>;
  /** Labels whose values identify the item among its host's items. */
  readonly key: readonly string[];
}

const KINDS: Readonly<Record<Exclude<InventoryKind, 'containers'>, KindSpec>> = {
  cpu_info: {
    metric: 'hostscope_cpu_info',
    key: ['vendor', 'brand', 'family', 'model', 'stepping'],
    columns: {
      vendor: ['vendor', 'text'],
      brand: ['brand', 'text'],
      family: ['family', 'text'],
      model: ['model', 'text'],
      stepping: ['stepping', 'text'],
      cores: ['cores', 'integer'],
      physical_cores: ['physical_cores', 'integer'],
      sockets: ['sockets', 'integer'],
      max_mhz: ['max_mhz', 'integer'],
      virtualization: ['virtualization', 'text'],
    },
  },
  memory_info: {
    metric: 'hostscope_memory_module_info',
    key: ['slot'],
    columns: {
      slot: ['slot', 'text'],
      type: ['type', 'text'],
      size_bytes: ['size_bytes', 'bigint'],
      clock_mhz: ['clock_mhz', 'integer'],
      form_factor: ['form_factor', 'text'],
      manufacturer: ['manufacturer', 'text'],
      part_number: ['part_number', 'text'],
      serial: ['serial', 'text'],
    },
  },
  disk_info: {
    metric: 'hostscope_disk_info',
    key: ['device'],
    columns: {
      device: ['device', 'text'],
      type: ['type', 'text'],
      name: ['name', 'text'],
      vendor: ['vendor', 'text'],
      size_bytes: ['size_bytes', 'bigint'],
      interface: ['interface', 'text'],
      serial: ['serial', 'text'],
      firmware: ['firmware', 'text'],
    },
  },
  network_info: {
    metric: 'hostscope_network_interface_info',
    key: ['interface'],
    columns: {
      interface: ['interface', 'text'],
      mac: ['mac', 'text'],
      ip4: ['ip4', 'text'],
      ip6: ['ip6', 'text'],
      type: ['type', 'text'],
      speed_mbps: ['speed_mbps', 'integer'],
      mtu: ['mtu', 'integer'],
      virtual: ['virtual', 'boolean'],
      internal: ['internal', 'boolean'],
    },
  },
};

const CONTAINER_COLUMNS: Readonly<Record<string, ColumnType>> = {
  container_id: 'text',
  name: 'text',
  image: 'text',
  status: 'text',
  labels: 'text',
};

const HOST_COLUMNS: Readonly<Record<string, readonly [string, ColumnType]>> = {
  vendor: ['vendor', 'text'],
  model: ['model', 'text'],
  serial: ['serial', 'text'],
  system_uuid: ['uuid', 'text'],
  virtual: ['virtual', 'boolean'],
  os: ['os', 'text'],
  os_release: ['os_release', 'text'],
  kernel: ['kernel', 'text'],
  arch: ['arch', 'text'],
};

function cell(raw: string | undefined, type: ColumnType): Cell {
  if (raw === undefined || raw === '') return null;
  switch (type) {
    case 'integer': {
      const n = Number(raw);
      return Number.isInteger(n) && Math.abs(n) <= 2_147_483_647 ? n : null;
    }
    case 'bigint': {
      const n = Number(raw);
      return Number.isSafeInteger(n) ? n : null;
    }
    case 'boolean':
      return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : null;
    default:
      return pgSafe(raw);
  }
}

function safeLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) out[pgSafe(k)] = pgSafe(labels[k] as string);
  return out;
}

function item(
  sample: ParsedSample,
  spec: Readonly<Record<string, readonly [string, ColumnType]>>,
  key: string,
): InventoryItem {
  const columns: Record<string, Cell> = {};
  for (const [col, [label, type]] of Object.entries(spec)) columns[col] = cell(sample.labels[label], type);
  return { key, attributes: safeLabels(sample.labels), columns };
}

const WANTED = new Set([
  'hostscope_system_info',
  'node_uname_info',
  'node_cpu_seconds_total',
  'node_memory_MemTotal_bytes',
  'machine_cpu_cores',
  'container_last_seen',
  'container_cpu_usage_seconds_total',
  'container_memory_working_set_bytes',
  'container_start_time_seconds',
  ...Object.values(KINDS).map((k) => k.metric),
]);

/**
 * The inventory a successful scrape shows: the host (from hostscope_system_info / node_uname_info) and,
 * when the exporter reports them, its CPUs, memory modules, disks, NICs (from the `*_info` metrics) and
 * containers (from cAdvisor-style metrics). Pure: no I/O.
 */
export function extractInventory(
  target: Target,
  timeMs: number,
  families: readonly ParsedFamily[],
): InventorySnapshot {
  // Containers come from the cAdvisor families every container has (WANTED), not from every
  // container_* family: a big host exposes tens of thousands of those samples per scrape.
  const picked = pickSamples(families, WANTED, ['hostscope_container_']);
  const system = picked.get('hostscope_system_info')?.[0];
  const uname = picked.get('node_uname_info')?.[0];
  const hostColumns: Record<string, Cell> = {};
  for (const [col, [label, type]] of Object.entries(HOST_COLUMNS))
    hostColumns[col] = cell(system?.labels[label], type);
  hostColumns.hostname = hostNameOf(picked, target);
  if (hostColumns.kernel === null && uname !== undefined)
    hostColumns.kernel = cell(uname.labels.release, 'text');
  if (hostColumns.arch === null && uname !== undefined) hostColumns.arch = cell(uname.labels.machine, 'text');
  const cpus = new Set((picked.get('node_cpu_seconds_total') ?? []).map((s) => s.labels.cpu ?? ''));
  hostColumns.cpu_count = cpus.size > 0 ? cpus.size : null;
  const mem = picked.get('node_memory_MemTotal_bytes')?.[0]?.value;
  hostColumns.memory_total_bytes = mem !== undefined && Number.isSafeInteger(mem) ? mem : null;
  const hostAttributes: Record<string, string> = {
    ...(system === undefined ? {} : safeLabels(system.labels)),
    ...(uname === undefined
      ? {}
      : Object.fromEntries(Object.entries(safeLabels(uname.labels)).map(([k, v]) => [`uname_${k}`, v]))),
  };
  for (const [k, v] of Object.entries(hostColumns)) if (v !== null) hostAttributes[`_${k}`] = String(v);

  const kinds: Partial<Record<InventoryKind, InventoryItem[]>> = {};
  if (system !== undefined) {
    for (const [kind, spec] of Object.entries(KINDS) as [Exclude<InventoryKind, 'containers'>, KindSpec][]) {
      const items = new Map<string, InventoryItem>();
      for (const s of picked.get(spec.metric) ?? []) {
        const key = pgSafe(spec.key.map((l) => s.labels[l] ?? '').join('\u001f'));
        if (!items.has(key)) items.set(key, item(s, spec.columns, key));
      }
      kinds[kind] = [...items.values()];
    }
  }
  const hasContainers =
    [...picked.keys()].some((n) => n.startsWith('container_')) || picked.has('machine_cpu_cores');
  if (hasContainers) {
    const states = containerStates(picked);
    const items = new Map<string, InventoryItem>();
    /** Cgroups whose container is complete (has its image): later samples of it are skipped at once. */
    const done = new Set<string>();
    for (const [name, samples] of picked) {
      if (!name.startsWith('container_') && !name.startsWith('hostscope_container_')) continue;
      for (const s of samples) {
        const cname = s.labels.name ?? '';
        const cgroup = s.labels.id ?? s.labels.container_id ?? '';
        if (cname === '' || cgroup === '' || done.has(cgroup)) continue;
        const id = pgSafe(containerIdFromCgroup(cgroup));
        const existing = items.get(id);
        if (existing !== undefined && existing.columns.image !== null) {
          done.add(cgroup);
          continue;
        }
        const labels: Record<string, string> = {};
        for (const [k, v] of Object.entries(s.labels))
          if (k.startsWith('container_label_'))
            labels[pgSafe(k.slice('container_label_'.length))] = pgSafe(v);
        items.set(id, {
          key: id,
          attributes: safeLabels({ ...s.labels, status: states.get(id) ?? 'running' }),
          columns: {
            container_id: id,
            name: pgSafe(cname),
            image: cell(s.labels.image, 'text'),
            status: states.get(id) ?? 'running',
            labels: JSON.stringify(labels),
          },
        });
      }
    }
    kinds.containers = [...items.values()];
  }
  const host: InventoryItem = { key: target.instance, attributes: hostAttributes, columns: hostColumns };
  const hash = createHash('sha256')
    .update(JSON.stringify([target.job, host, kinds]))
    .digest('hex');
  return { instance: target.instance, job: target.job, timeMs, host, kinds, hash };
}

/** Decides per target when a snapshot must be written: when it changed, or to refresh `last_seen`. */
export class InventoryTracker {
  private readonly last = new Map<string, { hash: string; timeMs: number }>();

  constructor(private readonly refreshMs = 600_000) {}

  due(snapshot: InventorySnapshot): boolean {
    const prev = this.last.get(snapshot.instance);
    if (prev !== undefined && prev.hash === snapshot.hash && snapshot.timeMs - prev.timeMs < this.refreshMs)
      return false;
    this.last.set(snapshot.instance, { hash: snapshot.hash, timeMs: snapshot.timeMs });
    return true;
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Writes a snapshot: upserts the host, then per reported kind upserts its items (undeleting returning
 * ones) and soft-deletes the host's items that are no longer reported. `updated_at` moves only when an
 * item's attributes or deletion state changed.
 */
export async function applyInventory(db: Queryable, snap: InventorySnapshot): Promise<void> {
  const hostCols = Object.keys(snap.host.columns);
  const values = hostCols.map((c) => snap.host.columns[c] ?? null);
  const hostRows = await db.query<{ id: string }>(
    `INSERT INTO hostscope.hosts AS h (instance, job, ${hostCols.map(quoteIdent).join(', ')}, attributes, last_seen)
     VALUES ($1, $2, ${hostCols.map((_, i) => `$${i + 3}`).join(', ')}, $${hostCols.length + 3}::jsonb, $${hostCols.length + 4})
     ON CONFLICT (instance) DO UPDATE SET
       job = EXCLUDED.job,
       ${hostCols.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(',\n       ')},
       attributes = EXCLUDED.attributes,
       last_seen = GREATEST(h.last_seen, EXCLUDED.last_seen),
       updated_at = CASE WHEN h.is_deleted OR h.attributes IS DISTINCT FROM EXCLUDED.attributes
                         OR h.job IS DISTINCT FROM EXCLUDED.job THEN now() ELSE h.updated_at END,
       is_deleted = false
     RETURNING id::text AS id`,
    [
      snap.instance,
      snap.job,
      ...values,
      JSON.stringify(snap.host.attributes),
      new Date(snap.timeMs).toISOString(),
    ],
  );
  const hostId = hostRows[0]?.id;
  if (hostId === undefined) throw new Error('host upsert returned no row');
  for (const [kind, items] of Object.entries(snap.kinds) as [InventoryKind, readonly InventoryItem[]][]) {
    const types: Readonly<Record<string, ColumnType>> =
      kind === 'containers'
        ? CONTAINER_COLUMNS
        : Object.fromEntries(Object.entries(KINDS[kind].columns).map(([c, [, t]]) => [c, t]));
    const cols = Object.keys(types);
    const recordType = cols
      .map((c) => `${quoteIdent(c)} ${types[c] === 'text' ? 'text' : types[c]}`)
      .join(', ');
    const selectCols = cols.map((c) =>
      kind === 'containers' && c === 'labels' ? 'x.labels::jsonb' : `x.${quoteIdent(c)}`,
    );
    const payload = items.map((it) => ({ item_key: it.key, attributes: it.attributes, ...it.columns }));
    await db.query(
      `WITH incoming AS (
         SELECT * FROM jsonb_to_recordset($2::jsonb) AS x(item_key text, attributes jsonb, ${recordType})
       ), upserted AS (
         INSERT INTO hostscope.${kind} AS t (host_id, item_key, attributes, ${cols.map(quoteIdent).join(', ')})
         SELECT $1::uuid, x.item_key, x.attributes, ${selectCols.join(', ')} FROM incoming x
         ON CONFLICT (host_id, md5(item_key)) DO UPDATE SET
           attributes = EXCLUDED.attributes,
           ${cols.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(',\n           ')},
           is_deleted = false,
           updated_at = now()
         WHERE t.is_deleted OR t.attributes IS DISTINCT FROM EXCLUDED.attributes
         RETURNING 1
       )
       UPDATE hostscope.${kind} SET is_deleted = true, updated_at = now()
        WHERE host_id = $1::uuid AND NOT is_deleted
          AND item_key NOT IN (SELECT item_key FROM incoming)`,
      [hostId, JSON.stringify(payload)],
    );
  }
}

/** Soft-deletes hosts not seen for `staleMs` (their target was removed or has been down that long). */
export async function softDeleteStaleHosts(db: Queryable, nowMs: number, staleMs: number): Promise<number> {
  const rows = await db.query<{ n: string | number }>(
    `WITH d AS (UPDATE hostscope.hosts SET is_deleted = true, updated_at = now()
                 WHERE NOT is_deleted AND last_seen < $1 RETURNING 1)
     SELECT count(*) AS n FROM d`,
    [new Date(nowMs - staleMs).toISOString()],
  );
  return Number(rows[0]?.n ?? 0);
}
