/**
 * docs/configuration.md, generated from the flag specs the commands parse with (exporterFlagSpecs(),
 * sinkFlagSpecs(), DATABASE_FLAGS, ...), so the reference cannot disagree with `--help`.
 */
import { envName, type FlagSpec } from '../config/flags';
import { exporterFlagSpecs, LOG_FLAGS } from '../exporter/config';
import { DATABASE_FLAGS, MAINTAIN_FLAGS, RETENTION_FLAGS, sinkFlagSpecs } from '../sink/config';
import { IMPORT_FLAGS, IMPORT_SUMMARY } from '../sink/import-command';
import { REPORT_FLAGS, REPORT_SUMMARY } from '../report/command';
import { mdCell, mdCode } from './markdown';

/** One documented flag. `kind` is the spec's kind, or what the default looks like for help-only flags. */
export interface FlagDoc {
  readonly name: string;
  readonly kind: string;
  readonly default: string;
  readonly env: readonly string[];
  readonly help: string;
  /** A testing aid (FlagSpec.testing): listed apart, after the others. */
  readonly testing?: boolean;
}

export interface CommandDoc {
  readonly command: string;
  readonly summary: string;
  readonly flags: readonly FlagDoc[];
}

export function flagDoc(spec: FlagSpec): FlagDoc {
  const envs = [envName(spec.name), ...(spec.envAliases ?? [])];
  return {
    name: spec.name,
    kind: spec.kind === 'enum' ? (spec.choices ?? []).join(' \\| ') : spec.kind,
    default: spec.default === undefined ? '' : formatDefault(spec.default),
    env: spec.secret === true ? [...envs, ...envs.map((e) => `${e}_FILE`)] : envs,
    help: spec.help,
    ...(spec.testing === true ? { testing: true } : {}),
  };
}

function formatDefault(v: FlagSpec['default']): string {
  if (Array.isArray(v)) return v.join(', ');
  return String(v);
}

/**
 * Flags read from a command's `--help` text (formatHelp's layout), for commands whose specs are not
 * exported. Each flag is three lines: `--name[ / --no-name]`, the help ending in `(default: <json>)`, and
 * `env: NAME[ or NAME_FILE]`.
 */
export function parseHelpFlags(help: string): FlagDoc[] {
  const lines = help.split('\n');
  const out: FlagDoc[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^ {2}--([\w.-]+)( \/ --no-[\w.-]+)?$/.exec(lines[i] ?? '');
    if (m === null) continue;
    const text = (lines[i + 1] ?? '').trim();
    const envLine = (lines[i + 2] ?? '').trim();
    const d = /^(.*) \(default: (.*)\)$/.exec(text);
    let def = '';
    let kind = m[2] === undefined ? 'string' : 'boolean';
    if (d !== null) {
      const parsed: unknown = JSON.parse(d[2] ?? '""');
      def = Array.isArray(parsed) ? parsed.map(String).join(', ') : String(parsed);
      if (typeof parsed === 'number') kind = 'number';
      else if (typeof parsed === 'string' && /^\d+(ms|s|m|h|d|w|y)$/.test(parsed)) kind = 'duration';
    }
    out.push({
      name: m[1] ?? '',
      kind,
      default: def,
      env: envLine.replace(/^env: /, '').split(' or '),
      help: d === null ? text : (d[1] ?? ''),
    });
  }
  return out;
}

/** Shared specs by name, to describe help-only flags (seed's database and log flags) from their spec. */
export function withKnownSpecs(flags: readonly FlagDoc[]): FlagDoc[] {
  const known = new Map([...DATABASE_FLAGS, ...RETENTION_FLAGS, ...LOG_FLAGS].map((s) => [s.name, s]));
  return flags.map((f) => {
    const spec = known.get(f.name);
    return spec === undefined ? f : flagDoc(spec);
  });
}

/** Commands whose flag specs are importable; `seed` comes from its --help (see generate.ts). */
export function knownCommandDocs(): CommandDoc[] {
  const docs = (specs: readonly FlagSpec[]): FlagDoc[] => specs.map(flagDoc);
  return [
    {
      command: 'exporter',
      summary: 'Serves host and container metrics for Prometheus.',
      flags: docs(exporterFlagSpecs()),
    },
    {
      command: 'sink',
      summary:
        'Scrapes /metrics targets on a schedule and writes every sample to PostgreSQL (or the embedded PGlite).',
      flags: docs(sinkFlagSpecs()),
    },
    {
      command: 'maintain',
      summary: 'Computes hourly rollups of closed hours and drops partitions past retention, then exits.',
      flags: docs(MAINTAIN_FLAGS),
    },
    {
      command: 'import',
      summary: IMPORT_SUMMARY,
      flags: docs(IMPORT_FLAGS),
    },
    {
      command: 'report',
      summary: REPORT_SUMMARY,
      flags: docs(REPORT_FLAGS),
    },
    {
      command: 'migrate',
      summary: 'Creates or upgrades the hostscope schema, then exits.',
      flags: docs([...DATABASE_FLAGS, ...LOG_FLAGS]),
    },
  ];
}

function table(flags: readonly FlagDoc[]): string[] {
  const rows = ['| Flag | Type | Default | Environment | Description |', '|---|---|---|---|---|'];
  for (const f of flags) {
    rows.push(
      `| ${mdCode(`--${f.name}`)} | ${f.kind} | ${f.default === '' ? '' : mdCode(f.default)} | ${f.env
        .map(mdCode)
        .join('<br>')} | ${mdCell(f.help)} |`,
    );
  }
  return rows;
}

export function renderConfiguration(commands: readonly CommandDoc[]): string {
  const out = [
    '# Configuration reference',
    '',
    '<!-- Generated by `npm run docs` (src/reference) from the flag definitions of each command. Do not edit:',
    '     a test fails when this file differs from what the code generates. -->',
    '',
    'Every flag is given as `--name=value` or `--name value`; boolean flags as `--name` / `--no-name`.',
    'Every flag can also be set in the environment: `HOSTSCOPE_` + the flag name in upper case with dots and',
    'dashes turned into underscores (`--web.listen-address` -> `HOSTSCOPE_WEB_LISTEN_ADDRESS`). The command line',
    'wins over the environment, the environment over the default. Repeatable (list) flags take a',
    'comma-separated list in the environment. Secret flags also read `<NAME>_FILE`: the path of a file holding',
    'the value (Docker and Kubernetes secrets); their values are never printed. Durations are written like',
    '`15s`, `5m`, `1h`, `14d`. All problems of a command line are reported at once, with flag and variable names.',
    '',
    `Commands: ${commands.map((c) => `[\`${c.command}\`](#hostscope-${c.command})`).join(', ')}.`,
  ];
  for (const c of commands) {
    out.push('', `## hostscope ${c.command}`, '', c.summary, '');
    const flags = c.flags.filter((f) => f.testing !== true);
    if (c.command === 'exporter') {
      const general = flags.filter(
        (f) =>
          !f.name.startsWith('collector.') ||
          !/^collector\.[a-z_]+(\.|$)/.test(f.name) ||
          f.name === 'collector.timeout' ||
          f.name === 'collector.disable-defaults',
      );
      const collectors = flags.filter((f) => !general.includes(f));
      out.push(...table(general), '', '### Collectors', '');
      out.push(
        'One `--collector.<name>` / `--no-collector.<name>` flag per collector (the names and defaults of',
        "node_exporter 1.5 where they overlap; see [metrics.md](metrics.md) for what each emits), and the collector's",
        'options as `--collector.<name>.<option>`.',
        '',
        ...table(collectors),
      );
    } else {
      out.push(...table(flags));
    }
    const testing = c.flags.filter((f) => f.testing === true);
    if (testing.length > 0)
      out.push(
        '',
        `### Testing aids (${c.command})`,
        '',
        'For tests and the reliability suite (docs/reliability.md), not for production use.',
        '',
        ...table(testing),
      );
  }
  return `${out.join('\n')}\n`;
}
