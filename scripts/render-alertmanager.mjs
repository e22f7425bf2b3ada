#!/usr/bin/env node
// Renders alertmanager/alertmanager.yml.tmpl into an Alertmanager configuration from environment
// variables, because Alertmanager (0.25) does not expand variables in its config file.
//
//   node scripts/render-alertmanager.mjs [--template FILE] [--out FILE]
//
// Every variable X may instead be given as X_FILE (a file holding the value, e.g. a Docker secret),
// except SMTP_AUTH_PASSWORD_FILE, which Alertmanager reads itself, so the password is never written
// into the rendered file. Values are validated and quoted for YAML. Exit codes: 0 rendered, 2 missing or
// invalid variables (all of them are listed at once), 1 any other error.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;
const EMAIL = /^[^\s@<>,]+@[^\s@<>,]+$/;

const str = (v) => JSON.stringify(v);
const duration = (v) => {
  if (!DURATION.test(v)) throw new Error(`must be a duration such as 30s, 5m or 4h, got ${str(v)}`);
  return v;
};
const bool = (v) => {
  if (!/^(true|false)$/i.test(v)) throw new Error(`must be true or false, got ${str(v)}`);
  return v.toLowerCase();
};
const emailList = (v) => {
  const parts = v.split(',').map((p) => p.trim());
  const bad = parts.filter((p) => !EMAIL.test(p.replace(/^.*<(.*)>$/, '$1')));
  if (bad.length > 0) throw new Error(`has invalid address(es): ${bad.join(', ')}`);
  return str(parts.join(', '));
};
const address = (v) => {
  if (!EMAIL.test(v.replace(/^.*<(.*)>$/, '$1'))) throw new Error(`must be an e-mail address, got ${str(v)}`);
  return str(v);
};

/** What the template may use: required (no default) or optional with a default, and how to render it. */
const VARIABLES = {
  SMTP_HOST: { help: 'SMTP server host name', render: str },
  SMTP_PORT: {
    default: '587',
    help: 'SMTP server port (587 STARTTLS, 465 implicit TLS, 25 plain)',
    render: (v) => {
      if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535)
        throw new Error(`must be a port, got ${str(v)}`);
      return v;
    },
  },
  SMTP_FROM: { help: 'sender address of the alert mails', render: address },
  ALERT_EMAIL_TO: { help: 'recipients of the alert mails, comma-separated', render: emailList },
  ALERT_EMAIL_TO_CRITICAL: {
    default: '${ALERT_EMAIL_TO}',
    help: 'recipients of critical alerts (default: ALERT_EMAIL_TO)',
    render: emailList,
  },
  SMTP_HELLO: { default: 'localhost', help: 'host name sent in EHLO', render: str },
  SMTP_AUTH_USERNAME: { default: '', help: 'SMTP user; empty: no authentication', render: str },
  SMTP_AUTH_PASSWORD_FILE: {
    default: '',
    help: 'file holding the SMTP password, read by Alertmanager (a Docker secret)',
    fileIsValue: true,
    render: str,
  },
  SMTP_REQUIRE_TLS: {
    default: 'true',
    help: 'require STARTTLS (false only for a local relay)',
    render: bool,
  },
  SMTP_TLS_INSECURE_SKIP_VERIFY: {
    default: 'false',
    help: "skip checking the server's certificate",
    render: bool,
  },
  ALERTMANAGER_TEMPLATE_FILES: {
    default: 'templates/*.tmpl',
    help: 'glob of the mail templates, relative to the rendered file',
    render: str,
  },
  HOSTSCOPE_ALERT_WEBHOOK_URL: {
    default: 'http://sink:9101/api/v1/alertmanager',
    help: "the hostscope sink's alert history webhook (hostscope sink --web.enable-alertmanager-webhook)",
    render: (v) => {
      let u;
      try {
        u = new URL(v);
      } catch {
        throw new Error(`must be an http(s) URL, got ${str(v)}`);
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:')
        throw new Error(`must be an http(s) URL, got ${str(v)}`);
      return str(v);
    },
  },
  ALERTMANAGER_HISTORY_GROUP_WAIT: {
    default: '10s',
    help: 'history webhook: wait before the first notification',
    render: duration,
  },
  ALERTMANAGER_HISTORY_GROUP_INTERVAL: {
    default: '1m',
    help: 'history webhook: wait between updates',
    render: duration,
  },
  ALERTMANAGER_HISTORY_REPEAT_INTERVAL: {
    default: '4h',
    help: 'history webhook: repeat while firing (the sink stores repeats once)',
    render: duration,
  },
  ALERTMANAGER_RESOLVE_TIMEOUT: { default: '5m', help: 'resolve_timeout', render: duration },
  ALERTMANAGER_CRITICAL_GROUP_WAIT: {
    default: '10s',
    help: 'critical: wait before the first mail',
    render: duration,
  },
  ALERTMANAGER_CRITICAL_GROUP_INTERVAL: {
    default: '1m',
    help: 'critical: wait between updates',
    render: duration,
  },
  ALERTMANAGER_CRITICAL_REPEAT_INTERVAL: {
    default: '2h',
    help: 'critical: repeat while firing',
    render: duration,
  },
  ALERTMANAGER_WARNING_GROUP_WAIT: {
    default: '1m',
    help: 'warning: wait before the first mail',
    render: duration,
  },
  ALERTMANAGER_WARNING_GROUP_INTERVAL: {
    default: '10m',
    help: 'warning: wait between updates',
    render: duration,
  },
  ALERTMANAGER_WARNING_REPEAT_INTERVAL: {
    default: '12h',
    help: 'warning: repeat while firing',
    render: duration,
  },
};

/** Placeholders computed from other variables. */
const DERIVED = {
  SMTP_SMARTHOST: (v) => {
    const host = v.SMTP_HOST.includes(':') && !v.SMTP_HOST.startsWith('[') ? `[${v.SMTP_HOST}]` : v.SMTP_HOST;
    return str(`${host}:${v.SMTP_PORT}`);
  },
};

function parseArgs(argv) {
  const opts = { template: join(here, '..', 'alertmanager', 'alertmanager.yml.tmpl'), out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => (inline !== undefined ? inline : argv[++i]);
    if (flag === '--template') opts.template = value();
    else if (flag === '--out') opts.out = value();
    else if (flag === '--help' || flag === '-h') opts.help = true;
    else throw new UsageError([`unknown argument ${argv[i]}`]);
    if (opts.template === undefined || (flag === '--out' && opts.out === undefined))
      throw new UsageError([`${flag} needs a value`]);
  }
  return opts;
}

class UsageError extends Error {
  constructor(problems) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}

/** Reads X or X_FILE; returns undefined when neither is set (an empty X counts as unset). */
function lookup(env, name, spec) {
  if (spec.fileIsValue) return env[name] !== undefined && env[name] !== '' ? env[name] : undefined;
  const file = env[`${name}_FILE`];
  const direct = env[name];
  if (direct !== undefined && direct !== '' && file !== undefined && file !== '')
    throw new Error(`both ${name} and ${name}_FILE are set; set one`);
  if (file !== undefined && file !== '') {
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new Error(`${name}_FILE: cannot read ${file}: ${err.code ?? err.message}`);
    }
  }
  return direct !== undefined && direct !== '' ? direct : undefined;
}

/**
 * Alertmanager 0.25 sends the password file's content verbatim, so a trailing newline (what `echo` and
 * most editors write) makes every login fail with 535. The file is checked when it is readable here (it
 * may only exist in Alertmanager's container).
 */
function checkPasswordFile(file) {
  if (file === '') return undefined;
  let content;
  try {
    content = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  if (content === '') return `SMTP_AUTH_PASSWORD_FILE ${file} is empty`;
  if (/[\r\n]$/.test(content))
    return `SMTP_AUTH_PASSWORD_FILE ${file} ends with a newline, which Alertmanager would send as part of the password; write it with printf '%s' 'the-password' > ${file}`;
  return undefined;
}

export function render(template, env) {
  const problems = [];
  const raw = {};
  const unreadable = new Set();
  for (const [name, spec] of Object.entries(VARIABLES)) {
    try {
      raw[name] = lookup(env, name, spec);
    } catch (err) {
      problems.push(err.message);
      unreadable.add(name);
    }
  }
  if (env.SMTP_AUTH_PASSWORD !== undefined && env.SMTP_AUTH_PASSWORD !== '')
    problems.push(
      'SMTP_AUTH_PASSWORD is not supported: put the password in a file and set SMTP_AUTH_PASSWORD_FILE to its path',
    );
  const missing = Object.entries(VARIABLES)
    .filter(([name, spec]) => raw[name] === undefined && spec.default === undefined && !unreadable.has(name))
    .map(([name, spec]) => `${name} (${spec.help}; or ${name}_FILE)`);
  if (missing.length > 0) problems.push(`missing required variable(s):\n  ${missing.join('\n  ')}`);
  const values = {};
  for (const [name, spec] of Object.entries(VARIABLES)) {
    let v = raw[name] ?? spec.default ?? '';
    if (v === '${ALERT_EMAIL_TO}') v = raw.ALERT_EMAIL_TO ?? '';
    values[name] = v;
  }
  if (values.SMTP_AUTH_USERNAME !== '' && values.SMTP_AUTH_PASSWORD_FILE === '')
    problems.push('SMTP_AUTH_USERNAME is set but SMTP_AUTH_PASSWORD_FILE is not');
  const passwordProblem = checkPasswordFile(values.SMTP_AUTH_PASSWORD_FILE);
  if (passwordProblem !== undefined) problems.push(passwordProblem);
  const rendered = {};
  if (missing.length === 0 && unreadable.size === 0) {
    for (const [name, spec] of Object.entries(VARIABLES)) {
      try {
        rendered[name] = spec.render(values[name]);
      } catch (err) {
        problems.push(`${name} ${err.message}`);
      }
    }
  }
  if (problems.length > 0) throw new UsageError(problems);
  for (const [name, fn] of Object.entries(DERIVED)) rendered[name] = fn(values);

  const unknown = new Set();
  const text = template.replace(/\$\{([A-Z0-9_]+)\}/g, (_m, name) => {
    if (!(name in rendered)) unknown.add(name);
    return rendered[name] ?? '';
  });
  if (unknown.size > 0) throw new Error(`template uses unknown variable(s): ${[...unknown].join(', ')}`);
  return `# Generated by scripts/render-alertmanager.mjs: edit the template and the environment, not this file.\n${text}`;
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
    if (opts.help) {
      const lines = Object.entries(VARIABLES).map(
        ([n, s]) =>
          `  ${n.padEnd(38)}${s.help}${s.default !== undefined ? ` (default: ${str(s.default)})` : ' (required)'}`,
      );
      console.log(
        `usage: render-alertmanager.mjs [--template FILE] [--out FILE]\n\nVariables:\n${lines.join('\n')}`,
      );
      return 0;
    }
    const text = render(readFileSync(opts.template, 'utf8'), process.env);
    if (opts.out === undefined) process.stdout.write(text);
    else {
      // Written beside the target and renamed, so a running Alertmanager never reads half a file.
      const tmp = `${opts.out}.tmp-${process.pid}`;
      writeFileSync(tmp, text, { mode: 0o644 });
      renameSync(tmp, opts.out);
      console.error(`render-alertmanager: wrote ${opts.out}`);
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(
        `render-alertmanager: cannot render the Alertmanager configuration:\n- ${err.problems.join('\n- ')}`,
      );
      return 2;
    }
    console.error(`render-alertmanager: ${err.message}`);
    return 1;
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1])
  process.exitCode = main();
