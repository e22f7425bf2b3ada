import { zeroPad } from '../zero-pad';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

let cachedSecond = Number.NaN;
let cached = '';

/**
 * The Date header of a response (IMF-fixdate, `Fri, 04 Dec 2026 17:10:00 GMT`), what Node writes from
 * Date.prototype.toUTCString, built from the UTC fields instead: V8 computes the local time-zone offset
 * even for that UTC string, which maps ~0.9 MB of ICU's time-zone code and data into the process. Kept
 * for the second, as Node keeps its own.
 */
export function httpDate(nowMs = Date.now()): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== cachedSecond) {
    const d = new Date(second * 1000);
    cached =
      `${DAYS[d.getUTCDay()] as string}, ${zeroPad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()] as string} ` +
      `${d.getUTCFullYear()} ${zeroPad(d.getUTCHours())}:${zeroPad(d.getUTCMinutes())}:${zeroPad(d.getUTCSeconds())} GMT`;
    cachedSecond = second;
  }
  return cached;
}
