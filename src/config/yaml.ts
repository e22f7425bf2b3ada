/**
 * A small YAML reader for the block-style subset that small config files such as the exporter-toolkit
 * web config use: block mappings and sequences, `[a, b]` flow sequences, `{}`, plain, 'single' and
 * "double" quoted scalars, comments and a leading `---`. Anything else (anchors, tags, block scalars,
 * multi-line flow collections) is refused with the line number rather than misread. Text in, plain
 * data out, no I/O. The project has no YAML parser among its runtime dependencies; this is enough for
 * the files it reads and says so when it is not.
 */

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

export class YamlError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'YamlError';
  }
}

interface Line {
  readonly no: number;
  indent: number;
  text: string;
}

/** Removes a comment (` #...` or a line starting with `#`) outside quotes. */
function stripComment(text: string): string {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === '\\' && quote === '"') i++;
      else if (c === "'" && quote === "'" && text[i + 1] === "'") i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") {
      // A quote opens a quoted scalar only at the start of a value; inside a plain scalar it is a character.
      const before = text.slice(0, i).trimEnd();
      if (before === '' || /[:\-[,]$/.test(before)) quote = c;
    } else if (c === '#' && (i === 0 || text[i - 1] === ' ' || text[i - 1] === '\t')) {
      return text.slice(0, i).trimEnd();
    }
  }
  return text.trimEnd();
}

function lines(text: string): Line[] {
  const out: Line[] = [];
  const raw = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  raw.forEach((l, i) => {
    const no = i + 1;
    const content = stripComment(l);
    if (content.trim() === '') return;
    const indent = /^ */.exec(content)?.[0].length ?? 0;
    if (content[indent] === '\t') throw new YamlError(no, 'tabs are not allowed in indentation');
    const t = content.slice(indent);
    if (indent === 0 && (t === '---' || t === '...')) {
      if (t === '---' && out.length > 0) throw new YamlError(no, 'only one YAML document is supported');
      return;
    }
    out.push({ no, indent, text: t });
  });
  return out;
}

function unquoteDouble(s: string, no: number): string {
  try {
    return JSON.parse(s) as string;
  } catch {
    throw new YamlError(no, `invalid double-quoted string ${s}`);
  }
}

/** A scalar value written on one line. */
function scalar(text: string, no: number): YamlValue {
  const t = text.trim();
  if (t.startsWith('"')) {
    if (!t.endsWith('"') || t.length < 2) throw new YamlError(no, `unterminated string ${t}`);
    return unquoteDouble(t, no);
  }
  if (t.startsWith("'")) {
    if (!t.endsWith("'") || t.length < 2) throw new YamlError(no, `unterminated string ${t}`);
    const inner = t.slice(1, -1);
    if (/(^|[^'])'([^']|$)/.test(inner.replace(/''/g, '')))
      throw new YamlError(no, `unterminated string ${t}`);
    return inner.replace(/''/g, "'");
  }
  if (t.startsWith('[')) return flowSequence(t, no);
  if (t === '{}') return {};
  if (t.startsWith('{')) throw new YamlError(no, 'flow mappings ({...}) are not supported; use block style');
  if (/^[&*!]/.test(t)) throw new YamlError(no, 'anchors, aliases and tags are not supported');
  if (/^[|>]/.test(t)) throw new YamlError(no, 'block scalars (| and >) are not supported; quote the value');
  if (t === '' || t === '~' || t === 'null' || t === 'Null' || t === 'NULL') return null;
  if (/^(true|True|TRUE)$/.test(t)) return true;
  if (/^(false|False|FALSE)$/.test(t)) return false;
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(t)) return Number(t);
  if (/^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(t)) return Number(t);
  if (/: |:$/.test(t)) throw new YamlError(no, `unexpected ":" in value "${t}"`);
  return t;
}

function flowSequence(t: string, no: number): YamlValue[] {
  if (!t.endsWith(']')) throw new YamlError(no, 'flow sequences ([...]) must close on the same line');
  const inner = t.slice(1, -1).trim();
  if (inner === '') return [];
  const items: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i] ?? '';
    if (quote !== undefined) {
      current += c;
      if (c === '\\' && quote === '"') current += inner[++i] ?? '';
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
      current += c;
    } else if (c === '[' || c === ']' || c === '{' || c === '}') {
      throw new YamlError(no, 'nested flow collections are not supported');
    } else if (c === ',') {
      items.push(current);
      current = '';
    } else current += c;
  }
  if (quote !== undefined) throw new YamlError(no, 'unterminated string in flow sequence');
  if (current.trim() !== '') items.push(current);
  return items.map((s) => scalar(s, no));
}

/** Splits `key: value` (value may be empty); undefined when the line is not a mapping entry. */
function splitKey(text: string, no: number): { key: string; rest: string } | undefined {
  if (text.startsWith('"') || text.startsWith("'")) {
    const q = text[0] ?? '';
    let end = 1;
    while (end < text.length) {
      if (text[end] === '\\' && q === '"') end += 2;
      else if (text[end] === q && q === "'" && text[end + 1] === "'") end += 2;
      else if (text[end] === q) break;
      else end++;
    }
    const after = text.slice(end + 1);
    if (!/^\s*:(\s|$)/.test(after)) return undefined;
    const key = scalar(text.slice(0, end + 1), no);
    return { key: String(key), rest: after.replace(/^\s*:/, '').trim() };
  }
  const m = /^([^\s#][^:]*?|[^\s#].*?)\s*:(\s+|$)(.*)$/.exec(text);
  if (m === null) return undefined;
  if (m[1]?.startsWith('?')) throw new YamlError(no, 'complex keys (?) are not supported');
  return { key: m[1] ?? '', rest: m[3] ?? '' };
}

class Parser {
  private i = 0;

  constructor(private readonly ls: Line[]) {}

  parse(): YamlValue {
    if (this.ls.length === 0) return null;
    const first = this.ls[0] as Line;
    const v = this.block(first.indent);
    const extra = this.ls[this.i];
    if (extra !== undefined) throw new YamlError(extra.no, 'unexpected indentation');
    return v;
  }

  private block(indent: number): YamlValue {
    const line = this.ls[this.i] as Line;
    if (line.text === '-' || line.text.startsWith('- ')) return this.sequence(indent);
    if (splitKey(line.text, line.no) !== undefined) return this.mapping(indent);
    this.i++;
    const v = scalar(line.text, line.no);
    return v;
  }

  private sequence(indent: number): YamlValue[] {
    const out: YamlValue[] = [];
    for (;;) {
      const line = this.ls[this.i];
      if (line === undefined || line.indent < indent) return out;
      if (line.indent > indent) throw new YamlError(line.no, 'unexpected indentation');
      if (!(line.text === '-' || line.text.startsWith('- '))) return out;
      const rest = line.text.slice(1).trimStart();
      if (rest === '') {
        this.i++;
        out.push(this.nested(indent, line.no));
        continue;
      }
      // "- key: value" or "- - x": the rest is a block at its own column.
      const column = indent + (line.text.length - rest.length);
      if (rest.startsWith('- ') || rest === '-' || splitKey(rest, line.no) !== undefined) {
        line.indent = column;
        line.text = rest;
        out.push(this.block(column));
        continue;
      }
      this.i++;
      out.push(scalar(rest, line.no));
    }
  }

  private mapping(indent: number): { [key: string]: YamlValue } {
    const out: { [key: string]: YamlValue } = {};
    for (;;) {
      const line = this.ls[this.i];
      if (line === undefined || line.indent < indent) return out;
      if (line.indent > indent) throw new YamlError(line.no, 'unexpected indentation');
      const kv = splitKey(line.text, line.no);
      if (kv === undefined) {
        if (line.text.startsWith('- ') || line.text === '-') return out;
        throw new YamlError(line.no, `expected "key: value", got "${line.text}"`);
      }
      if (Object.prototype.hasOwnProperty.call(out, kv.key))
        throw new YamlError(line.no, `key "${kv.key}" is defined twice`);
      this.i++;
      if (kv.rest === '') {
        const next = this.ls[this.i];
        // A sequence may sit at the key's own indentation ("key:\n- a").
        if (next !== undefined && next.indent === indent && (next.text === '-' || next.text.startsWith('- ')))
          out[kv.key] = this.sequence(indent);
        else out[kv.key] = this.nested(indent, line.no);
      } else out[kv.key] = scalar(kv.rest, line.no);
    }
  }

  /** The value on the lines after a `key:` or `-` with nothing after it: null when not indented further. */
  private nested(indent: number, _no: number): YamlValue {
    const next = this.ls[this.i];
    if (next === undefined || next.indent <= indent) return null;
    return this.block(next.indent);
  }
}

/** Parses one YAML document of the supported subset; throws YamlError naming the line. */
export function parseYaml(text: string): YamlValue {
  return new Parser(lines(text)).parse();
}
