export interface LoadAvg {
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
}

/** Parses /proc/loadavg: "0.52 0.58 0.59 1/467 12345". */
export function parseLoadAvg(text: string): LoadAvg {
  const fields = text.trim().split(/\s+/);
  const values = fields.slice(0, 3).map(Number);
  if (values.length !== 3 || values.some((v) => !Number.isFinite(v))) {
    throw new Error(`unexpected /proc/loadavg content: ${JSON.stringify(text.slice(0, 80))}`);
  }
  const [load1, load5, load15] = values as [number, number, number];
  return { load1, load5, load15 };
}
