/** Parser for /proc/cpuinfo (x86 layout, the one node_exporter's cpu collector reads on amd64). */

export interface CpuInfo {
  /** The `processor` number, as a decimal string. */
  readonly processor: string;
  readonly vendorId: string;
  readonly cpuFamily: string;
  readonly model: string;
  readonly modelName: string;
  readonly stepping: string;
  readonly microcode: string;
  readonly cacheSize: string;
  readonly physicalId: string;
  readonly coreId: string;
  readonly flags: readonly string[];
  readonly bugs: readonly string[];
}

type MutableCpuInfo = { -readonly [K in keyof CpuInfo]: CpuInfo[K] };

type StringField = Exclude<keyof CpuInfo, 'processor' | 'flags' | 'bugs'>;

const STRING_KEYS: ReadonlyMap<string, StringField> = new Map<string, StringField>([
  ['vendor', 'vendorId'],
  ['vendor_id', 'vendorId'],
  ['cpu family', 'cpuFamily'],
  ['model', 'model'],
  ['model name', 'modelName'],
  ['stepping', 'stepping'],
  ['microcode', 'microcode'],
  ['cache size', 'cacheSize'],
  ['physical id', 'physicalId'],
  ['core id', 'coreId'],
]);

function emptyCpu(processor: string): MutableCpuInfo {
  return {
    processor,
    vendorId: '',
    cpuFamily: '',
    model: '',
    modelName: '',
    stepping: '',
    microcode: '',
    cacheSize: '',
    physicalId: '',
    coreId: '',
    flags: [],
    bugs: [],
  };
}

function processorNumber(value: string | undefined, line: string): string {
  if (value === undefined || !/^\d+$/.test(value)) {
    throw new Error(`invalid cpuinfo processor line: ${JSON.stringify(line)}`);
  }
  return String(Number(value));
}

/**
 * Parses /proc/cpuinfo into one entry per `processor` block. As procfs does, a line is split at the
 * first ": " into a key (trimmed) and a value (kept as is); lines without ": " (e.g. an empty
 * "power management:") are ignored. The first non-empty line must be a `processor` line.
 */
export function parseCpuInfo(text: string): CpuInfo[] {
  const lines = text.split('\n');
  let start = 0;
  while (start < lines.length && (lines[start] as string).trim() === '') start++;
  const first = lines[start] ?? '';
  if (!first.startsWith('processor') || !first.includes(':')) {
    throw new Error(`invalid cpuinfo file: ${JSON.stringify(first)}`);
  }

  const cpus: MutableCpuInfo[] = [];
  let current: MutableCpuInfo | undefined;
  for (let i = start; i < lines.length; i++) {
    const line = lines[i] as string;
    const sep = line.indexOf(': ');
    if (sep === -1) continue;
    const key = line.slice(0, sep).trim();
    const value = line.slice(sep + 2);
    if (key === 'processor') {
      current = emptyCpu(processorNumber(value, line));
      cpus.push(current);
      continue;
    }
    if (current === undefined) continue;
    if (key === 'flags' || key === 'bugs') {
      current[key] = value.split(/\s+/).filter((f) => f !== '');
      continue;
    }
    const field = STRING_KEYS.get(key);
    if (field !== undefined) current[field] = value;
  }
  return cpus;
}
