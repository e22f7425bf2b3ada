/**
 * os-release parsing with the rules node_exporter 1.5 applies (it uses hashicorp/go-envparse): one
 * `KEY=value` per line; blank lines and lines starting with `#` skipped; an optional `export ` prefix;
 * values may mix unquoted text (ends at `#`, surrounding blanks dropped), 'single quoted' text (taken
 * literally) and "double quoted" text with JSON escapes (\" \\ \/ \b \f \r \n \t \uXXXX); control
 * characters anywhere in a value, and any malformed line, make the whole file invalid.
 */

export interface OsRelease {
  readonly name: string;
  readonly id: string;
  readonly idLike: string;
  readonly prettyName: string;
  readonly variant: string;
  readonly variantId: string;
  readonly version: string;
  readonly versionId: string;
  readonly versionCodename: string;
  readonly buildId: string;
  readonly imageId: string;
  readonly imageVersion: string;
  /** The numeric major.minor of VERSION_ID ("22.04" -> 22.04, "3.18.4" -> 3.18), 0 when there is none. */
  readonly versionNumber: number;
}

/** Go's strings.TrimSpace: Unicode White_Space, which differs from JS trim() (U+0085 yes, U+FEFF no). */
const GO_SPACE =
  /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEX4 = /^[0-9A-Fa-f]{4}/;
const VERSION = /^[0-9]+\.?[0-9]*/;
/** The two-character escapes of a double-quoted value. */
const SIMPLE_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['"', '"'],
  ['\\', '\\'],
  ['/', '/'],
  ['b', '\b'],
  ['f', '\f'],
  ['r', '\r'],
  ['n', '\n'],
  ['t', '\t'],
]);
/** bufio.Scanner's default maximum token size: longer lines fail the whole parse. */
const MAX_LINE = 64 * 1024;

function goTrimSpace(s: string): string {
  return s.replace(GO_SPACE, '');
}

function hex4(value: string, at: number, line: number): number {
  const digits = HEX4.exec(value.slice(at, at + 4));
  if (digits === null) throw new Error(`error on line ${line}: incomplete or invalid \\u escape`);
  return parseInt(digits[0], 16);
}

/** Parses one value (already trimmed, non-empty) following go-envparse's state machine. */
function parseValue(value: string, line: number): string {
  let out = '';
  let lastSig = 0;
  let mode: 'normal' | 'double' | 'single' | 'escape' = 'normal';
  for (let i = 0; i < value.length; i++) {
    const c = value.charAt(i);
    const code = value.charCodeAt(i);
    if (code < 32)
      throw new Error(
        `error on line ${line}: 0x${code.toString(16).padStart(2, '0')} is an invalid value character`,
      );
    if (code > 127) {
      if (mode === 'escape')
        throw new Error(`error on line ${line}: multibyte characters disallowed in escape sequences`);
      out += c;
      lastSig = out.length;
      continue;
    }
    switch (mode) {
      case 'normal':
        if (c === '"') mode = 'double';
        else if (c === "'") mode = 'single';
        else if (c === '#') return out.slice(0, lastSig);
        else {
          out += c;
          if (c !== ' ') lastSig = out.length;
        }
        break;
      case 'double':
        if (c === '"') mode = 'normal';
        else if (c === '\\') mode = 'escape';
        else {
          out += c;
          lastSig = out.length;
        }
        break;
      case 'single':
        if (c === "'") mode = 'normal';
        else {
          out += c;
          lastSig = out.length;
        }
        break;
      case 'escape': {
        const mapped = SIMPLE_ESCAPES.get(c);
        if (mapped !== undefined) {
          out += mapped;
        } else if (c === 'u') {
          let cp = hex4(value, i + 1, line);
          i += 4;
          if (cp >= 0xd800 && cp <= 0xdfff) {
            if (value.length < i + 6 || value[i + 1] !== '\\' || value[i + 2] !== 'u') {
              throw new Error(`error on line ${line}: incomplete Unicode surrogate pair`);
            }
            const low = hex4(value, i + 3, line);
            i += 6;
            cp =
              cp < 0xdc00 && low >= 0xdc00 && low < 0xe000
                ? 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00)
                : 0xfffd;
          }
          out += String.fromCodePoint(cp);
        } else {
          throw new Error(`error on line ${line}: invalid escape sequence: ${JSON.stringify(c)}`);
        }
        lastSig = out.length;
        mode = 'double';
        break;
      }
    }
  }
  if (mode === 'double') throw new Error(`error on line ${line}: unmatched "`);
  if (mode === 'single') throw new Error(`error on line ${line}: unmatched '`);
  if (mode === 'escape') throw new Error(`error on line ${line}: incomplete escape sequence`);
  return out;
}

/** Parses an env-style file into a map; throws on the first malformed line, like go-envparse. */
export function parseEnvFile(text: string): Map<string, string> {
  const env = new Map<string, string>();
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (Buffer.byteLength(raw) >= MAX_LINE) throw new Error(`error on line ${line}: token too long`);
    const ln = goTrimSpace(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    if (ln === '' || ln.startsWith('#')) return;
    const eq = ln.indexOf('=');
    if (eq < 0) throw new Error(`error on line ${line}: missing =`);
    let key = goTrimSpace(ln.slice(0, eq));
    const value = goTrimSpace(ln.slice(eq + 1));
    if (key.length > 'export '.length && key.startsWith('export ')) key = key.slice('export '.length);
    if (key === '') throw new Error(`error on line ${line}: empty key`);
    if (!KEY.test(key)) throw new Error(`error on line ${line}: invalid key ${JSON.stringify(key)}`);
    env.set(key, value === '' ? '' : parseValue(value, line));
  });
  return env;
}

/** What node_exporter reports after failing to parse an os-release file: every field empty. */
export const EMPTY_RELEASE: OsRelease = {
  name: '',
  id: '',
  idLike: '',
  prettyName: '',
  variant: '',
  variantId: '',
  version: '',
  versionId: '',
  versionCodename: '',
  buildId: '',
  imageId: '',
  imageVersion: '',
  versionNumber: 0,
};

/** Parses /etc/os-release (or /usr/lib/os-release) into the fields node_os_info and node_os_version use. */
export function parseOsRelease(text: string): OsRelease {
  const env = parseEnvFile(text);
  const get = (k: string) => env.get(k) ?? '';
  const versionId = get('VERSION_ID');
  const major = VERSION.exec(versionId);
  return {
    name: get('NAME'),
    id: get('ID'),
    idLike: get('ID_LIKE'),
    prettyName: get('PRETTY_NAME'),
    variant: get('VARIANT'),
    variantId: get('VARIANT_ID'),
    version: get('VERSION'),
    versionId,
    versionCodename: get('VERSION_CODENAME'),
    buildId: get('BUILD_ID'),
    imageId: get('IMAGE_ID'),
    imageVersion: get('IMAGE_VERSION'),
    versionNumber: major === null ? 0 : Number(major[0]),
  };
}
