export interface FileFdStats {
  /** First field of file-nr: file handles allocated. */
  readonly allocated: number;
  /** Third field of file-nr: fs.file-max. The second field (free handles) is always 0 since Linux 2.6. */
  readonly maximum: number;
}

/** Parses /proc/sys/fs/file-nr: "allocated<TAB>free<TAB>maximum", e.g. "1472\t0\t9223372036854775807". */
export function parseFileNr(text: string): FileFdStats {
  const fields = text.trim().split(/\s+/);
  if (fields.length < 3) {
    throw new Error(`unexpected number of file stats in file-nr: ${JSON.stringify(text.slice(0, 80))}`);
  }
  return { allocated: parseNumber(fields[0]), maximum: parseNumber(fields[2]) };
}

function parseNumber(field: string | undefined): number {
  const value = Number(field);
  if (field === undefined || field === '' || !Number.isFinite(value)) {
    throw new Error(`invalid value ${JSON.stringify(field)} in file-nr`);
  }
  return value;
}
