/** One protocol section: field names and values in file order (`TcpExt`: `ListenDrops` ... / 0 ...). */
export interface NetStatSection {
  readonly protocol: string;
  readonly names: readonly string[];
  readonly values: readonly number[];
}

/** Protocol -> its section. A protocol seen again, in the same file or a later one, replaces the earlier. */
export type NetStats = Map<string, NetStatSection>;

/** Caches hold what the kernel prints the same on every read; past this many entries they start over. */
const CACHE_LIMIT = 1024;

/**
 * Parses /proc/net/netstat, /proc/net/snmp and /proc/net/snmp6 into one NetStats. The names are the same
 * on every scrape, so the parser keeps them: a header line (`TcpExt: SyncookiesSent ...`, ~120 names) is
 * split once, and each snmp6 name is split into protocol and field once. Values that are plain integers
 * are read in place. Every value is still checked, as node_exporter fails the scrape on a bad one.
 */
export class NetStatsParser {
  private readonly headers = new Map<string, { protocol: string; names: string[] }>();
  private readonly snmp6Names = new Map<string, { protocol: string; field: string } | null>();

  /**
   * /proc/net/netstat and /proc/net/snmp: pairs of lines, `Proto: Name1 Name2 ...` then
   * `Proto: v1 v2 ...`. Name and value counts must match.
   */
  readPaired(text: string, file: string, into: NetStats): void {
    let at = 0;
    for (;;) {
      const headerLine = nextLine(text, at);
      if (headerLine === undefined) return;
      const valueLine = nextLine(text, headerLine.next);
      at = valueLine?.next ?? text.length;
      const header = this.header(text.slice(headerLine.start, headerLine.end), file);
      // A missing values line fails as a count mismatch, like one with too few values.
      const values = readValues(
        text,
        valueLine?.start ?? text.length,
        valueLine?.end ?? text.length,
        header,
        file,
      );
      into.set(header.protocol, { protocol: header.protocol, names: header.names, values });
    }
  }

  /**
   * /proc/net/snmp6: `Ip6InReceives   12` per line. The protocol is the name up to and including its first
   * "6" (`Icmp6OutType133` -> `Icmp6` / `OutType133`); lines without a "6" or a value are skipped.
   */
  readSnmp6(text: string, into: NetStats): void {
    const sections = new Map<string, { protocol: string; names: string[]; values: number[] }>();
    for (let line = nextLine(text, 0); line !== undefined; line = nextLine(text, line.next)) {
      const nameEnd = tokenEnd(text, line.start, line.end);
      const valueStart = skipSpace(text, nameEnd, line.end);
      if (valueStart === line.end) continue;
      const name = this.snmp6Name(text.slice(line.start, nameEnd));
      if (name === null) continue;
      const value = readValue(
        text,
        valueStart,
        tokenEnd(text, valueStart, line.end),
        `snmp6 ${name.protocol}${name.field}`,
      );
      let section = sections.get(name.protocol);
      if (section === undefined) {
        section = { protocol: name.protocol, names: [], values: [] };
        sections.set(name.protocol, section);
      }
      section.names.push(name.field);
      section.values.push(value);
    }
    for (const section of sections.values()) into.set(section.protocol, section);
  }

  private header(line: string, file: string): { protocol: string; names: string[] } {
    let header = this.headers.get(line);
    if (header === undefined) {
      const names = line.trim().split(/\s+/);
      const head = names.shift() as string;
      if (!head.endsWith(':')) throw new Error(`invalid header line in ${file}: ${JSON.stringify(line)}`);
      header = { protocol: head.slice(0, -1), names };
      if (this.headers.size >= CACHE_LIMIT) this.headers.clear();
      this.headers.set(line, header);
    }
    return header;
  }

  private snmp6Name(key: string): { protocol: string; field: string } | null {
    let name = this.snmp6Names.get(key);
    if (name === undefined) {
      const six = key.indexOf('6');
      name = six === -1 ? null : { protocol: key.slice(0, six + 1), field: key.slice(six + 1) };
      if (this.snmp6Names.size >= CACHE_LIMIT) this.snmp6Names.clear();
      this.snmp6Names.set(key, name);
    }
    return name;
  }
}

/** The values line of a section: `Proto: v1 v2 ...`, one value per name. */
function readValues(
  text: string,
  start: number,
  end: number,
  header: { protocol: string; names: readonly string[] },
  file: string,
): number[] {
  const where = `${file} ${header.protocol}`;
  const first = skipSpace(text, start, end);
  const headEnd = tokenEnd(text, first, end);
  const mismatch = (): Error => new Error(`field count mismatch in ${file}: ${header.protocol}`);
  // The line must start with the same `Proto:` as its header.
  if (
    headEnd - first !== header.protocol.length + 1 ||
    !text.startsWith(header.protocol, first) ||
    text.charCodeAt(headEnd - 1) !== 0x3a
  ) {
    throw mismatch();
  }
  const values: number[] = [];
  for (let at = skipSpace(text, headEnd, end); at < end; at = skipSpace(text, at, end)) {
    const tokenStop = tokenEnd(text, at, end);
    values.push(readValue(text, at, tokenStop, where));
    at = tokenStop;
  }
  if (values.length !== header.names.length) throw mismatch();
  return values;
}

/**
 * A counter as node_exporter accepts it (Go's strconv.ParseFloat): kernel values are integers, some
 * negative (Tcp MaxConn -1). Anything else fails the whole scrape, as in node_exporter. An integer of up
 * to 15 digits is read in place (exactly what Number() gives); anything else goes through Number().
 */
function readValue(text: string, start: number, end: number, where: string): number {
  let i = start;
  const negative = text.charCodeAt(i) === 0x2d;
  if (negative) i++;
  if (end - i > 0 && end - i <= 15) {
    let n = 0;
    for (; i < end; i++) {
      const digit = text.charCodeAt(i) - 0x30;
      if (digit < 0 || digit > 9) break;
      n = n * 10 + digit;
    }
    if (i === end) return negative ? -n : n;
  }
  const raw = text.slice(start, end);
  const value = Number(raw);
  if (raw === '' || Number.isNaN(value)) throw new Error(`invalid value ${JSON.stringify(raw)} in ${where}`);
  return value;
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0b || code === 0x0c;
}

function skipSpace(text: string, at: number, end: number): number {
  while (at < end && isSpace(text.charCodeAt(at))) at++;
  return at;
}

function tokenEnd(text: string, at: number, end: number): number {
  while (at < end && !isSpace(text.charCodeAt(at))) at++;
  return at;
}

/** The next line from `at` that is not blank: its bounds and where the one after starts. */
function nextLine(text: string, at: number): { start: number; end: number; next: number } | undefined {
  while (at < text.length) {
    let end = text.indexOf('\n', at);
    if (end === -1) end = text.length;
    if (skipSpace(text, at, end) < end) return { start: at, end, next: end + 1 };
    at = end + 1;
  }
  return undefined;
}
