import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

/**
 * Static checks of src/ (the TypeScript syntax tree, not a text grep, so multi-line SQL and nested
 * templates are seen):
 *   1. no shell-out: child_process' exec/execSync (which run a shell) are not used, and no spawn or
 *      execFile is given `shell: true`; programs are run with an argument vector only;
 *   2. no string-built SQL outside the migrations: a template literal whose text holds SQL (an upper
 *      case statement keyword) may interpolate only
 *        - a `const` of this file whose value is a literal (a fixed SQL fragment or number),
 *        - a call with only literal arguments to a function of this file (a fragment builder),
 *        - a positional parameter number (`$${i + 3}` makes `$4`),
 *      or an entry of ALLOWED below; every value from outside goes in as a query parameter ($1, ...).
 *      String concatenation with `+` onto SQL text is checked the same way.
 */

const SRC = path.join(__dirname, '../../src');
const MIGRATIONS = path.join(SRC, 'db/migrations');

/** SQL as this code base writes it: upper case keywords. */
const SQL =
  /\b(SELECT|INSERT INTO|UPDATE|DELETE FROM|CREATE|ALTER|DROP|TRUNCATE|COPY|SET LOCAL|ON CONFLICT|VALUES|WITH \w+ AS)\b/;

interface Allowed {
  /** Path under src/. */
  readonly file: string;
  /** The interpolated expression's source text (whitespace collapsed), or a pattern for it. */
  readonly expr: string | RegExp;
}

/**
 * Interpolations into SQL that are neither constants nor literal-argument calls, each of internal
 * identifiers only. Keep this list small: prefer a query parameter.
 */
const ALLOWED: readonly Allowed[] = [
  // COPY targets and the staging insert of the binary COPY path: table and column names the sink's
  // writers put in each CopyPart (code constants), never a value.
  { file: 'db/database.ts', expr: 'p.table' },
  { file: 'db/database.ts', expr: 'list' },
  { file: 'db/database.ts', expr: "p.onConflict ?? 'DO NOTHING'" },
  { file: 'db/pglite.ts', expr: 'target' },
  { file: 'db/postgres.ts', expr: 'target' },
  // work_mem of bulk statements: a constant of each database class ('256MB', PGlite's setting).
  { file: 'sink/maintain.ts', expr: 'db.bulkWorkMem' },
  { file: 'storage/compact.ts', expr: 'db.bulkWorkMem' },
  // Partitions to drop: names read from pg_catalog (made by hostscope), quoted as identifiers.
  { file: 'sink/maintain.ts', expr: `p.name.replace(/"/g, '""')` },
  // Inventory upserts: the column lists of the fixed HOST_COLUMNS / KINDS / CONTAINER_COLUMNS tables,
  // quoted as identifiers, and `kind`, a key of KINDS (the table name).
  { file: 'sink/inventory.ts', expr: /^(hostCols|cols)\.map\(/ },
  { file: 'sink/inventory.ts', expr: 'recordType' },
  { file: 'sink/inventory.ts', expr: 'kind' },
  { file: 'sink/inventory.ts', expr: "selectCols.join(', ')" },
  // Compaction: partition relations (`raw`, `blocks`, `t`, `rel`) named by hostscope's partition scheme,
  // a time range predicate built from those names, the union of the head partitions' rows, the block
  // width (a constant of migration 4) and the choice of TRUNCATE or DELETE on them (`emptying`).
  { file: 'storage/compact.ts', expr: /^(rel|range|raw|blocks|t|BLOCK_WIDTH|emptying)$/ },
  { file: 'storage/compact.ts', expr: "sources.join(' UNION ALL ')" },
  // History API: the bucketing subquery for raw or hourly data, chosen by a literal type ('raw' |
  // 'hourly') from code constants; the range, series ids and bucket width go in as $1..$4.
  { file: 'api/history.ts', expr: /^(bucketAveragesSql|containerBucketsSql)\(q\.source\)$/ },
  { file: 'api/series.ts', expr: 'bucketAveragesSql(q.source)' },
  // Head partitions: the name of one of two schema functions (a literal type).
  { file: 'db/partitions.ts', expr: 'fn' },
  // The filesystem trend statement, a constant of src/api (shared by two queries).
  { file: 'api/overview.ts', expr: 'FILESYSTEM_TREND_SQL' },
  // Grafana panel queries (dashboard JSON, run by Grafana with its macros, never by hostscope).
  { file: 'dashboards/history.ts', expr: /^(suffix|inner)$/ },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return p === MIGRATIONS ? [] : sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

interface Finding {
  readonly file: string;
  readonly line: number;
  readonly what: string;
}

const isLiteral = (n: ts.Node): boolean =>
  ts.isStringLiteral(n) || ts.isNumericLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n);

/** Names of this file's consts with a literal value, and of its functions (declared or arrow consts). */
function declarations(sf: ts.SourceFile): { constants: Set<string>; functions: Set<string> } {
  const constants = new Set<string>();
  const functions = new Set<string>();
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionDeclaration(n) && n.name !== undefined) functions.add(n.name.text);
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer !== undefined) {
      const list = n.parent;
      const isConst = ts.isVariableDeclarationList(list) && (list.flags & ts.NodeFlags.Const) !== 0;
      const init = n.initializer;
      if (isConst && (isLiteral(init) || (ts.isPrefixUnaryExpression(init) && isLiteral(init.operand))))
        constants.add(n.name.text);
      if (isConst && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) functions.add(n.name.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return { constants, functions };
}

function scan(file: string): Finding[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  return scanSource(sf, path.relative(SRC, file));
}

/** The findings of one parsed file, `rel` its path under src/. */
function scanSource(sf: ts.SourceFile, rel: string): Finding[] {
  const { constants, functions } = declarations(sf);
  const findings: Finding[] = [];
  // What this file imports from child_process: local name -> function, and namespace names.
  const imported = new Map<string, string>();
  const namespaces = new Set<string>();
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier)) continue;
    if (!/^(node:)?child_process$/.test(st.moduleSpecifier.text)) continue;
    const b = st.importClause?.namedBindings;
    if (b !== undefined && ts.isNamespaceImport(b)) namespaces.add(b.name.text);
    if (b !== undefined && ts.isNamedImports(b))
      for (const e of b.elements) imported.set(e.name.text, (e.propertyName ?? e.name).text);
    if (st.importClause?.name !== undefined) namespaces.add(st.importClause.name.text);
  }
  /** The child_process function a callee names, if it names one. */
  const childProcessFunction = (callee: ts.Expression): string | undefined => {
    if (ts.isIdentifier(callee)) return imported.get(callee.text);
    if (
      ts.isPropertyAccessExpression(callee) &&
      ts.isIdentifier(callee.expression) &&
      namespaces.has(callee.expression.text)
    )
      return callee.name.text;
    return undefined;
  };
  const at = (n: ts.Node): number => sf.getLineAndCharacterOfPosition(n.getStart()).line + 1;
  const text = (n: ts.Node): string => n.getText(sf).replace(/\s+/g, ' ');
  const allowedInSql = (expr: ts.Expression, before: string): boolean => {
    if (isLiteral(expr)) return true;
    if (ts.isIdentifier(expr) && constants.has(expr.text)) return true;
    if (
      ts.isCallExpression(expr) &&
      ts.isIdentifier(expr.expression) &&
      functions.has(expr.expression.text) &&
      expr.arguments.every(isLiteral)
    )
      return true;
    if (before.endsWith('$')) return true; // a parameter number: `$${i + 3}`
    const source = text(expr);
    return ALLOWED.some(
      (a) => a.file === rel && (typeof a.expr === 'string' ? a.expr === source : a.expr.test(source)),
    );
  };

  const visit = (n: ts.Node): void => {
    // 1. shell-outs
    if (ts.isCallExpression(n)) {
      const callee = childProcessFunction(n.expression);
      if (callee === 'exec' || callee === 'execSync')
        findings.push({
          file: rel,
          line: at(n),
          what: `${callee}(): runs a shell; use execFile or spawn with arguments`,
        });
      if (
        ts.isIdentifier(n.expression) &&
        n.expression.text === 'require' &&
        n.arguments.some((a) => ts.isStringLiteral(a) && /child_process$/.test(a.text))
      )
        findings.push({
          file: rel,
          line: at(n),
          what: 'require of child_process: import it, so this scan sees its uses',
        });
      if (callee !== undefined && /^(spawn|spawnSync|execFile|execFileSync|fork)$/.test(callee))
        for (const arg of n.arguments)
          if (
            ts.isObjectLiteralExpression(arg) &&
            arg.properties.some(
              (p) =>
                ts.isPropertyAssignment(p) &&
                text(p.name) === 'shell' &&
                p.initializer.kind !== ts.SyntaxKind.FalseKeyword,
            )
          )
            findings.push({ file: rel, line: at(n), what: `${callee}() with the shell option` });
    }
    // 2. SQL built from strings
    if (ts.isTemplateExpression(n)) {
      const literal = n.head.text + n.templateSpans.map((s) => s.literal.text).join(' ');
      if (SQL.test(literal)) {
        let before = n.head.text;
        for (const span of n.templateSpans) {
          if (!allowedInSql(span.expression, before))
            findings.push({
              file: rel,
              line: at(span.expression),
              what: `SQL interpolates \${${text(span.expression)}}`,
            });
          before = span.literal.text;
        }
      }
    }
    if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.PlusToken) {
      const sides = [n.left, n.right];
      const sqlSide = sides.find(
        (s) => (ts.isStringLiteral(s) || ts.isNoSubstitutionTemplateLiteral(s)) && SQL.test(s.text),
      );
      const other = sides.find((s) => s !== sqlSide);
      if (sqlSide !== undefined && other !== undefined && !allowedInSql(other, ''))
        findings.push({ file: rel, line: at(n), what: `SQL concatenated with ${text(other)}` });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return findings;
}

describe('source code scan', () => {
  const files = sourceFiles(SRC);
  let findings: Finding[];
  beforeAll(() => {
    findings = files.flatMap(scan);
  });

  it('scans the whole of src/ but the migrations', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.some((f) => f.startsWith(MIGRATIONS))).toBe(false);
  });

  it('runs no program through a shell', () => {
    expect(findings.filter((f) => !f.what.startsWith('SQL'))).toEqual([]);
  });

  it('builds no SQL from strings but constants, literal-argument fragments and the allowed identifiers', () => {
    expect(findings.filter((f) => f.what.startsWith('SQL'))).toEqual([]);
  });

  it('has no stale allow-list entry', () => {
    // Every ALLOWED entry still matches an interpolation (so the list only shrinks with the code).
    const used = new Set<Allowed>();
    for (const file of files) {
      const rel = path.relative(SRC, file);
      const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
      const visit = (n: ts.Node): void => {
        if (ts.isTemplateExpression(n))
          for (const span of n.templateSpans) {
            const source = span.expression.getText(sf).replace(/\s+/g, ' ');
            for (const a of ALLOWED)
              if (a.file === rel && (typeof a.expr === 'string' ? a.expr === source : a.expr.test(source)))
                used.add(a);
          }
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
    expect(ALLOWED.filter((a) => !used.has(a))).toEqual([]);
  });

  it('catches what it is meant to catch', () => {
    const probe = (code: string): Finding[] =>
      scanSource(ts.createSourceFile('probe.ts', code, ts.ScriptTarget.ES2022, true), 'probe.ts');
    expect(probe('db.query(`SELECT * FROM t WHERE a = ${input}`);')).toHaveLength(1);
    expect(probe("db.query('DELETE FROM t WHERE a = ' + input);")).toHaveLength(1);
    expect(probe("import { execSync } from 'node:child_process'; execSync(`ls ${dir}`);")).toHaveLength(1);
    expect(probe("import * as cp from 'child_process'; cp.exec('ls');")).toHaveLength(1);
    expect(
      probe("import { spawn } from 'node:child_process'; spawn('ls', [dir], { shell: true });"),
    ).toHaveLength(1);
    expect(probe("const cp = require('node:child_process');")).toHaveLength(1);
    expect(probe('/x/.exec(s); re.exec(s);')).toHaveLength(0);
    expect(probe('const N = 5; db.query(`SELECT * FROM t LIMIT ${N}`);')).toHaveLength(0);
    expect(probe("const f = (c: string) => c; db.query(`SELECT ${f('x')} FROM t`);")).toHaveLength(0);
    expect(
      probe(
        "import { spawn, execFile } from 'node:child_process'; spawn('ls', [dir]); execFile('ls', ['-l', dir]);",
      ),
    ).toHaveLength(0);
  });
});
