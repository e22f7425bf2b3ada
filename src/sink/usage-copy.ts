import { BinaryCopyWriter, type CopyColumnType } from '../db/binary-copy';
import type { CopyPart } from '../db/database';
import type { ContainerUsageRow, HostUsageRow } from './usage';

type Columns<R> = readonly (readonly [keyof R & string, CopyColumnType])[];

const HOST_COLUMNS: Columns<HostUsageRow> = [
  ['time', 'timestamptz'],
  ['instance', 'text'],
  ['job', 'text'],
  ['host', 'text'],
  ['cpu_count', 'int4'],
  ['cpu_percent', 'float8'],
  ['cpu_iowait_percent', 'float8'],
  ['memory_total_bytes', 'int8'],
  ['memory_available_bytes', 'int8'],
  ['memory_used_bytes', 'int8'],
  ['memory_percent', 'float8'],
  ['load1', 'float8'],
  ['load5', 'float8'],
  ['load15', 'float8'],
];

const CONTAINER_COLUMNS: Columns<ContainerUsageRow> = [
  ['time', 'timestamptz'],
  ['instance', 'text'],
  ['job', 'text'],
  ['host', 'text'],
  ['container', 'text'],
  ['container_id', 'text'],
  ['image', 'text'],
  ['status', 'text'],
  ['cpu_cores', 'float8'],
  ['cpu_percent', 'float8'],
  ['memory_usage_bytes', 'int8'],
  ['memory_limit_bytes', 'int8'],
  ['memory_percent', 'float8'],
];

function part<R extends HostUsageRow | ContainerUsageRow>(
  table: string,
  columns: Columns<R>,
  rows: readonly R[],
): CopyPart {
  const w = new BinaryCopyWriter(Math.max(1024, rows.length * 16 * columns.length));
  // Usage rows carry their time as ISO text (what the sink's writer sends as JSON); the rows of one
  // scrape share it, so it is parsed once for them.
  let timeText = '';
  let timeMs = NaN;
  for (const r of rows) {
    w.row(columns.length);
    for (const [name, type] of columns) {
      const v = r[name] as string | number | null;
      if (type === 'timestamptz' && typeof v === 'string') {
        if (v !== timeText) {
          timeText = v;
          timeMs = Date.parse(v);
        }
        w.timestampMs(timeMs);
      } else w.value(type, v);
    }
  }
  return { table, columns: columns.map(([c]) => c), payload: w.finish() };
}

/**
 * Usage rows as binary COPY payloads, for the sink's writer and for `seed` (write them with
 * `copyNewRows`). The day partitions must exist.
 */
export function usageCopyParts(
  hosts: readonly HostUsageRow[],
  containers: readonly ContainerUsageRow[],
): CopyPart[] {
  const parts: CopyPart[] = [];
  if (hosts.length > 0) parts.push(part('host_usage', HOST_COLUMNS, hosts));
  if (containers.length > 0) parts.push(part('container_usage', CONTAINER_COLUMNS, containers));
  return parts;
}
