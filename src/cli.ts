#!/usr/bin/env node
import { ConfigError } from './errors';
import { readVersion } from './version';

type Command = (argv: readonly string[], env: NodeJS.ProcessEnv) => Promise<number>;

const COMMANDS: Readonly<Record<string, { summary: string; run: Command }>> = {
  // Commands load their modules on demand: the exporter must not pay for pg/PGlite in memory.
  exporter: {
    summary: 'serve host and container metrics on /metrics',
    run: async (argv, env) => (await import('./exporter/main')).exporterCommand(argv, env),
  },
  sink: {
    summary: 'scrape /metrics targets and write every sample to PostgreSQL',
    run: async (argv, env) => (await import('./sink/commands')).sinkCommand(argv, env),
  },
  maintain: {
    summary: 'compute hourly rollups and drop partitions past retention',
    run: async (argv, env) => (await import('./sink/commands')).maintainCommand(argv, env),
  },
  migrate: {
    summary: 'create or upgrade the database schema',
    run: async (argv, env) => (await import('./sink/commands')).migrateCommand(argv, env),
  },
  import: {
    summary: 'backfill history from OpenMetrics or text files with timestamps',
    run: async (argv, env) => (await import('./sink/import-command')).importCommand(argv, env),
  },
  report: {
    summary: 'mail a digest of a period (hosts, filesystems, containers, alerts) with charts',
    run: async (argv, env) => (await import('./report/command')).reportCommand(argv, env),
  },
  seed: {
    summary: 'fill the database with synthetic history',
    run: async (argv, env) => (await import('./sink/commands')).seedCommand(argv, env),
  },
};

function usage(): string {
  const lines = ['usage: hostscope <command> [flags]', '', 'Commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push('', 'Run "hostscope <command> --help" for the flags of a command.');
  return lines.join('\n') + '\n';
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === 'version') {
    process.stdout.write(`hostscope ${readVersion()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`hostscope: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`hostscope ${name}: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(
      `hostscope ${name}: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
