#!/usr/bin/env node
// Dependency audit of what the image ships (`npm run audit:deps`): `npm audit --omit=dev` first. Where
// the registry refuses npm's advisory endpoint (some mirrors and proxies answer 405), it says so and falls
// back to a check that needs only ordinary package reads: every production package of package-lock.json
// against its packument, listing the installed versions that are deprecated, and those with a newer
// release on their own line (same major; same minor for 0.x), where a published security fix would be.
// The fallback is no advisory check: docs/security.md records the advisories checked by hand.
//
// Exit status: 0 when npm audit is clean (or, in the fallback, nothing is deprecated or behind but what
// ACCEPTED lists), 1 when it found something, 2 when neither check could run.
//
// Usage: npm run audit:deps [-- --json]
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.join(import.meta.dirname, '..');
// Fallback findings kept on purpose, by exact version (a new version is looked at again); docs/security.md
// gives the reasons at length.
const ACCEPTED = {
  'pgpass@1.0.5': 'pinned exactly by pg 8.23.1; 1.0.6 fixes no advisory',
  'undici-types@6.21.0': 'type declarations only, pinned by @types/node 20',
};
const asJson = process.argv.includes('--json');

/** `npm audit --omit=dev`: its JSON report, or the reason it could not run. */
function npmAudit() {
  const r = spawnSync('npm', ['audit', '--omit=dev', '--json'], { cwd: root, encoding: 'utf8' });
  let report;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    return { error: (r.stderr || r.stdout || `npm audit exited ${r.status}`).trim().split('\n')[0] };
  }
  // npm prints {"message": ..., "error": {...}} when the endpoint failed, a report with
  // metadata.vulnerabilities when it ran.
  if (report.error || !report.metadata) {
    const e = report.error ?? {};
    return { error: report.message || e.summary || e.detail || `npm audit exited ${r.status}` };
  }
  return { report };
}

/** Production packages of the lockfile: [{ name, version, path }], one per installed copy. */
function productionPackages(lock) {
  const out = [];
  for (const [key, entry] of Object.entries(lock.packages ?? {})) {
    if (key === '' || entry.dev || entry.devOptional || entry.link) continue;
    const name = entry.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    out.push({ name, version: entry.version, path: key });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name) || a.path.localeCompare(b.path));
}

const parse = (v) => {
  const m = /^(\d+)\.(\d+)\.(\d+)(-.+)?$/.exec(v);
  return m ? { major: +m[1], minor: +m[2], patch: +m[3], pre: m[4] ?? '' } : undefined;
};
const cmp = (a, b) => a.major - b.major || a.minor - b.minor || a.patch - b.patch;

/** The newest stable release on the installed version's line, when newer than it. */
function newerOnLine(installed, versions) {
  const cur = parse(installed);
  if (!cur) return undefined;
  let best;
  for (const v of versions) {
    const p = parse(v);
    if (!p || p.pre || p.major !== cur.major || (cur.major === 0 && p.minor !== cur.minor)) continue;
    if (cmp(p, cur) > 0 && (!best || cmp(p, parse(best)) > 0)) best = v;
  }
  return best;
}

async function packument(registry, name) {
  const url = new URL(name.replace('/', '%2f'), registry);
  const res = await fetch(url, { headers: { accept: 'application/vnd.npm.install-v1+json' } });
  if (!res.ok) throw new Error(`${name}: registry answered ${res.status}`);
  return res.json();
}

/** The fallback: deprecated and behind-on-their-line production packages. */
async function lineCheck(packages) {
  const registry = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' })
    .trim()
    .replace(/\/?$/, '/');
  const names = [...new Set(packages.map((p) => p.name))];
  const docs = new Map();
  const queue = [...names];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let name = queue.shift(); name; name = queue.shift())
        docs.set(name, await packument(registry, name));
    }),
  );
  const findings = [];
  for (const p of packages) {
    const doc = docs.get(p.name);
    const deprecated = doc.versions?.[p.version]?.deprecated;
    const newer = newerOnLine(p.version, Object.keys(doc.versions ?? {}));
    const accepted = ACCEPTED[`${p.name}@${p.version}`];
    if (deprecated || newer)
      findings.push({ ...p, newer, deprecated, accepted, latest: doc['dist-tags']?.latest });
  }
  return { checked: names.length, findings };
}

const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
const packages = productionPackages(lock);
const audit = npmAudit();
if (audit.report) {
  const v = audit.report.metadata.vulnerabilities;
  if (asJson) console.log(JSON.stringify(audit.report, null, 2));
  else {
    for (const [name, vuln] of Object.entries(audit.report.vulnerabilities ?? {}))
      console.log(
        `${vuln.severity.padEnd(8)} ${name} ${vuln.range} (fix: ${JSON.stringify(vuln.fixAvailable)})`,
      );
    console.log(`npm audit --omit=dev: ${packages.length} packages, ${v.total} vulnerable`);
  }
  process.exit(v.total === 0 ? 0 : 1);
}
console.error(`npm audit --omit=dev could not run: ${audit.error}`);
console.error('falling back to the release-line check (not an advisory check)');
let result;
try {
  result = await lineCheck(packages);
} catch (err) {
  console.error(`release-line check could not run: ${err.message}`);
  process.exit(2);
}
const open = result.findings.filter((f) => !f.accepted);
if (asJson) console.log(JSON.stringify({ npmAudit: audit.error, ...result }, null, 2));
else {
  for (const f of result.findings) {
    const what = [
      f.newer && `${f.newer} is out on its line`,
      f.deprecated && `deprecated: ${f.deprecated}`,
      `latest ${f.latest}`,
      f.accepted && `accepted: ${f.accepted}`,
    ];
    console.log(`${f.name}@${f.version} (${f.path}): ${what.filter(Boolean).join('; ')}`);
  }
  console.log(
    `release-line check: ${packages.length} installed copies of ${result.checked} packages, ` +
      `${result.findings.length} deprecated or behind, ${open.length} not accepted`,
  );
}
process.exit(open.length === 0 ? 0 : 1);
