/**
 * Pure parsers for the time collector: sysfs clocksource attributes, and the local time zone as Go's
 * `time.Local` sees it (a TZif file plus its POSIX TZ footer), so that `node_time_zone_offset_seconds`
 * carries the same abbreviation (`UTC`, `CET`, `CEST`, `<-03>` names as `-03`) as node_exporter.
 */

export interface ClockSource {
  readonly available: readonly string[];
  readonly current: string;
}

/** One clocksource directory: `available_clocksource` ("tsc kvm-clock \n") and `current_clocksource`. */
export function parseClockSource(available: string, current: string): ClockSource {
  return {
    available: available
      .trim()
      .split(/\s+/)
      .filter((s) => s !== ''),
    current: current.trim(),
  };
}

const CLOCKSOURCE_DIR = /^clocksource[0-9]/;

/**
 * The `clocksource[0-9]*` entries of /sys/devices/system/clocksource in the order Go's filepath.Glob
 * returns them (byte-wise sorted); node_exporter labels each with its index in this list, not its number.
 */
export function clockSourceDirs(entries: readonly string[]): string[] {
  return entries.filter((e) => CLOCKSOURCE_DIR.test(e)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------------
// Time zones

export interface ZoneType {
  /** Seconds east of UTC. */
  readonly offset: number;
  readonly isDst: boolean;
  readonly name: string;
}

export interface Zone {
  readonly types: readonly ZoneType[];
  /** Transition instants (Unix seconds, ascending) and the index of the type in effect from each. */
  readonly transitions: readonly { readonly at: number; readonly type: number }[];
  /** The POSIX TZ string from the TZif footer, describing instants after the last transition. */
  readonly extend: string;
}

/** What Go's time.Local falls back to when no zone can be loaded. */
export const UTC_ZONE: Zone = {
  types: [{ offset: 0, isDst: false, name: 'UTC' }],
  transitions: [],
  extend: '',
};

/** Parses a TZif file (RFC 8536, versions 1 to 4), preferring the 64-bit data block like Go does. */
export function parseTzif(buf: Uint8Array): Zone {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const header = (at: number) => {
    if (buf.byteLength < at + 44 || String.fromCharCode(...buf.subarray(at, at + 4)) !== 'TZif') {
      throw new Error('not a TZif file');
    }
    const count = (i: number) => view.getUint32(at + 20 + i * 4);
    return {
      version: buf[at + 4] ?? 0,
      isutcnt: count(0),
      isstdcnt: count(1),
      leapcnt: count(2),
      timecnt: count(3),
      typecnt: count(4),
      charcnt: count(5),
    };
  };
  const blockSize = (h: ReturnType<typeof header>, timeSize: number) =>
    h.timecnt * timeSize +
    h.timecnt +
    h.typecnt * 6 +
    h.charcnt +
    h.leapcnt * (timeSize + 4) +
    h.isstdcnt +
    h.isutcnt;

  let h = header(0);
  let at = 44;
  let timeSize = 4;
  if (h.version !== 0) {
    at += blockSize(h, 4);
    h = header(at);
    at += 44;
    timeSize = 8;
  }
  const end = at + blockSize(h, timeSize);
  if (end > buf.byteLength || h.typecnt === 0) throw new Error('truncated TZif file');

  const times: number[] = [];
  for (let i = 0; i < h.timecnt; i++) {
    times.push(timeSize === 8 ? Number(view.getBigInt64(at + i * 8)) : view.getInt32(at + i * 4));
  }
  at += h.timecnt * timeSize;
  const transitions = times.map((t, i) => ({ at: t, type: buf[at + i] ?? 0 }));
  at += h.timecnt;
  const typeAt = at;
  const charsAt = typeAt + h.typecnt * 6;
  const types: ZoneType[] = [];
  for (let i = 0; i < h.typecnt; i++) {
    const p = typeAt + i * 6;
    const abbrAt = charsAt + (buf[p + 5] ?? 0);
    let abbrEnd = abbrAt;
    while (abbrEnd < charsAt + h.charcnt && buf[abbrEnd] !== 0) abbrEnd++;
    types.push({
      offset: view.getInt32(p),
      isDst: buf[p + 4] !== 0,
      name: Buffer.from(buf.subarray(abbrAt, abbrEnd)).toString('latin1'),
    });
  }
  if (transitions.some((t) => t.type >= types.length)) throw new Error('bad TZif transition type');

  let extend = '';
  if (timeSize === 8) {
    const footer = Buffer.from(buf.subarray(end)).toString('latin1');
    if (footer.length > 2 && footer.startsWith('\n') && footer.endsWith('\n')) extend = footer.slice(1, -1);
  }
  return { types, transitions, extend };
}

export interface ZoneAt {
  readonly name: string;
  readonly offset: number;
}

/** The zone abbreviation and UTC offset in effect at Unix second `sec`, as Go's Location.lookup. */
export function lookupZone(zone: Zone, sec: number): ZoneAt {
  const { types, transitions } = zone;
  if (types.length === 0) return { name: 'UTC', offset: 0 };
  // Go adds a transition at the beginning of time when a file has none, so that the footer applies.
  const tx = transitions.length > 0 ? transitions : [{ at: -Infinity, type: 0 }];
  const first = tx[0] as { at: number; type: number };
  if (sec < first.at) {
    const std = types.find((t) => !t.isDst) ?? (types[0] as ZoneType);
    return { name: std.name, offset: std.offset };
  }
  let lo = 0;
  let hi = tx.length;
  while (hi - lo > 1) {
    const m = (lo + hi) >>> 1;
    if (sec < (tx[m] as { at: number }).at) hi = m;
    else lo = m;
  }
  const type = types[(tx[lo] as { type: number }).type] as ZoneType;
  if (lo === tx.length - 1 && zone.extend !== '') {
    const fromRule = evalPosixTz(zone.extend, sec);
    if (fromRule !== undefined) return fromRule;
  }
  return { name: type.name, offset: type.offset };
}

interface Rule {
  readonly kind: 'julian' | 'doy' | 'mwd';
  readonly day: number;
  readonly week: number;
  readonly mon: number;
  /** Seconds after local midnight. */
  readonly time: number;
}

/** A cursor over a POSIX TZ string; each reader returns undefined on malformed input. */
class TzCursor {
  constructor(public s: string) {}

  num(min: number, max: number): number | undefined {
    let i = 0;
    let n = 0;
    for (let code = this.s.charCodeAt(0); code >= 48 && code <= 57; code = this.s.charCodeAt(i)) {
      n = n * 10 + (code - 48);
      if (n > max) return undefined;
      i++;
    }
    if (i === 0 || n < min) return undefined;
    this.s = this.s.slice(i);
    return n;
  }

  name(): string | undefined {
    if (this.s === '') return undefined;
    if (this.s.startsWith('<')) {
      const close = this.s.indexOf('>');
      if (close < 0) return undefined;
      const name = this.s.slice(1, close);
      this.s = this.s.slice(close + 1);
      return name;
    }
    const stop = this.s.search(/[0-9,+-]/);
    const name = stop < 0 ? this.s : this.s.slice(0, stop);
    if (name.length < 3) return undefined;
    this.s = stop < 0 ? '' : this.s.slice(stop);
    return name;
  }

  /** `[+-]hh[:mm[:ss]]` in seconds. */
  offset(): number | undefined {
    if (this.s === '') return undefined;
    let sign = 1;
    if (this.s.startsWith('+')) this.s = this.s.slice(1);
    else if (this.s.startsWith('-')) {
      this.s = this.s.slice(1);
      sign = -1;
    }
    const hours = this.num(0, 24 * 7);
    if (hours === undefined) return undefined;
    let off = hours * 3600;
    for (const unit of [60, 1]) {
      if (!this.s.startsWith(':')) break;
      this.s = this.s.slice(1);
      const n = this.num(0, 59);
      if (n === undefined) return undefined;
      off += n * unit;
    }
    return sign * off;
  }

  rule(): Rule | undefined {
    let kind: Rule['kind'];
    let day: number | undefined;
    let week = 0;
    let mon = 0;
    if (this.s.startsWith('J')) {
      this.s = this.s.slice(1);
      kind = 'julian';
      day = this.num(1, 365);
    } else if (this.s.startsWith('M')) {
      this.s = this.s.slice(1);
      kind = 'mwd';
      const m = this.num(1, 12);
      if (m === undefined || !this.eat('.')) return undefined;
      const w = this.num(1, 5);
      if (w === undefined || !this.eat('.')) return undefined;
      day = this.num(0, 6);
      mon = m;
      week = w;
    } else {
      kind = 'doy';
      day = this.num(0, 365);
    }
    if (day === undefined) return undefined;
    let time = 2 * 3600;
    if (this.eat('/')) {
      const t = this.offset();
      if (t === undefined) return undefined;
      time = t;
    }
    return { kind, day, week, mon, time };
  }

  eat(c: string): boolean {
    if (!this.s.startsWith(c)) return false;
    this.s = this.s.slice(c.length);
    return true;
  }
}

const DAY = 86400;

function isLeap(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/** Seconds from the start of `year` (UTC) to the rule's transition, given the offset in force before it. */
function ruleTime(year: number, r: Rule, offset: number): number {
  let s: number;
  if (r.kind === 'julian') {
    s = (r.day - 1) * DAY + (isLeap(year) && r.day >= 60 ? DAY : 0);
  } else if (r.kind === 'doy') {
    s = r.day * DAY;
  } else {
    const firstOfMonth = Date.UTC(year, r.mon - 1, 1);
    const dow = new Date(firstOfMonth).getUTCDay();
    let d = (r.day - dow + 7) % 7;
    const daysInMonth = new Date(Date.UTC(year, r.mon, 0)).getUTCDate();
    for (let i = 1; i < r.week; i++) {
      if (d + 7 >= daysInMonth) break;
      d += 7;
    }
    s = ((firstOfMonth - Date.UTC(year, 0, 1)) / 1000 / DAY + d) * DAY;
  }
  return s + r.time - offset;
}

/**
 * Evaluates a POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3", "<-03>3", "UTC0") at Unix second `sec`
 * with the semantics of Go's time.tzset; undefined when the string is malformed.
 */
export function evalPosixTz(tz: string, sec: number): ZoneAt | undefined {
  const c = new TzCursor(tz);
  let stdName = c.name();
  const stdOff = stdName === undefined ? undefined : c.offset();
  if (stdName === undefined || stdOff === undefined) return undefined;
  let stdOffset = 0 - stdOff; // POSIX offsets are west-positive (and 0 - 0 is not -0)
  if (c.s === '' || c.s.startsWith(',')) return { name: stdName, offset: stdOffset };

  let dstName = c.name();
  if (dstName === undefined) return undefined;
  let dstOffset: number;
  if (c.s === '' || c.s.startsWith(',')) {
    dstOffset = stdOffset + 3600;
  } else {
    const off = c.offset();
    if (off === undefined) return undefined;
    dstOffset = 0 - off;
  }
  if (c.s === '') c.s = ',M3.2.0,M11.1.0';
  if (!c.eat(',') && !c.eat(';')) return undefined;
  const startRule = c.rule();
  if (startRule === undefined || !c.eat(',')) return undefined;
  const endRule = c.rule();
  if (endRule === undefined || c.s !== '') return undefined;

  const year = new Date(sec * 1000).getUTCFullYear();
  const ysec = sec - Date.UTC(year, 0, 1) / 1000;
  let startSec = ruleTime(year, startRule, stdOffset);
  let endSec = ruleTime(year, endRule, dstOffset);
  if (endSec < startSec) {
    // Southern hemisphere: the labels swap, as in Go.
    [startSec, endSec] = [endSec, startSec];
    [stdName, dstName] = [dstName, stdName];
    [stdOffset, dstOffset] = [dstOffset, stdOffset];
  }
  if (ysec < startSec || ysec >= endSec) return { name: stdName, offset: stdOffset };
  return { name: dstName, offset: dstOffset };
}
