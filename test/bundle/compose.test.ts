import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REPO } from '../helpers/prometheus';
import { describeWithService } from '../helpers/services';

const COMPOSE = '/usr/bin/docker-compose';
const COMPOSE_FILE = path.join(REPO, 'docker-compose.yml');
const EXAMPLE = readFileSync(path.join(REPO, '.env.example'), 'utf8');

const REQUIRED: Record<string, string> = {
  POSTGRES_PASSWORD: 'pg0123456789abcdef',
  GRAFANA_ADMIN_PASSWORD: 'gf0123456789abcdef',
  DOCKER_GID: '998',
};

/** .env.example with the given variables filled in (the others as the example has them). */
function envFile(values: Record<string, string>): string {
  return EXAMPLE.split('\n')
    .map((line) => {
      const m = /^([A-Z0-9_]+)=/.exec(line);
      const name = m?.[1];
      return name !== undefined && name in values ? `${name}=${values[name] ?? ''}` : line;
    })
    .join('\n');
}

/**
 * docker-compose config with only the given env file: a clean process environment (no variables of the
 * developer's shell) and --env-file (not a .env the developer may have in the checkout).
 */
function composeConfig(
  env: string,
  args: readonly string[] = [],
): { status: number | null; out: string; err: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'hostscope-compose-'));
  try {
    const file = path.join(dir, 'stack.env');
    writeFileSync(file, env);
    const r = spawnSync(COMPOSE, ['-f', COMPOSE_FILE, '--env-file', file, ...args, 'config'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: r.status, out: r.stdout, err: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describeWithService(
  'docker-compose',
  () => existsSync(COMPOSE),
  'docker-compose.yml',
  () => {
    it('validates with the required values filled in, and interpolates them', () => {
      const r = composeConfig(envFile(REQUIRED));
      expect(r.err).not.toMatch(/ERROR|Missing/i);
      expect(r.status).toBe(0);
      expect(r.out).toContain('POSTGRES_PASSWORD: pg0123456789abcdef');
      expect(r.out).toContain('GF_SECURITY_ADMIN_PASSWORD: gf0123456789abcdef');
      expect(r.out).toContain(
        'DATABASE_URL: postgres://hostscope:pg0123456789abcdef@postgres:5432/hostscope',
      );
      expect(r.out).toMatch(/group_add:\n\s+- '?998'?\n/);
      // Retention flags with their defaults.
      expect(r.out).toContain('--storage.tsdb.retention.time=30d');
      expect(r.out).toContain('--retention.raw=14d');
      // The sink: read-only but for its outage buffer, on a named volume that outlives the container.
      const rest = r.out.slice(r.out.indexOf('\n  sink:\n') + 1);
      const sink = rest.slice(0, rest.slice(1).search(/\n {0,2}[a-z][a-z0-9-]*:/) + 1);
      expect(sink).toMatch(/\n {4}read_only: true\n/);
      expect(sink).toContain('--buffer.dir=/var/lib/hostscope/buffer');
      expect(sink).toMatch(/\n {4}- sink-buffer:\/var\/lib\/hostscope\/buffer(:rw)?(\n|$)/);
      expect(r.out).toMatch(/\nvolumes:\n(?: {2}.*\n)*? {2}sink-buffer:/);
    });

    it('the remote write switch (docker-compose.remote-write.yml) turns on the receiver and the switched Prometheus config', () => {
      const override = path.join(REPO, 'docker-compose.remote-write.yml');
      const on = composeConfig(envFile(REQUIRED), ['-f', override]);
      expect(on.err).not.toMatch(/ERROR|Missing/i);
      expect(on.status).toBe(0);
      const service = (out: string, name: string): string => {
        const rest = out.slice(out.indexOf(`\n  ${name}:\n`) + 1);
        return rest.slice(0, rest.slice(1).search(/\n {0,2}[a-z][a-z0-9-]*:/) + 1);
      };
      expect(service(on.out, 'sink')).toMatch(/HOSTSCOPE_WEB_ENABLE_REMOTE_WRITE_RECEIVER: ['"]?true['"]?\n/);
      const prom = service(on.out, 'prometheus');
      expect(prom).toMatch(/prometheus\/prometheus\.remote-write\.yml:\/etc\/prometheus\/prometheus\.yml:ro/);
      // The directory mount stays (rules), with the switched file over prometheus.yml.
      expect(prom).toMatch(/\/prometheus:\/etc\/prometheus:ro/);
      expect(prom).toContain('--config.file=/etc/prometheus/prometheus.yml');
      // Nothing else changes: same services, the sink keeps its own scrape (the switched config drops it).
      expect(service(on.out, 'sink')).toContain('--scrape.target=http://host.docker.internal:9100/metrics');
      const off = composeConfig(envFile(REQUIRED));
      expect(service(off.out, 'sink')).not.toContain('REMOTE_WRITE_RECEIVER');
      expect(service(off.out, 'prometheus')).not.toContain('remote-write');
    });

    it('puts the mail catcher in the "mail" profile and the weekly report in "report", nothing else', () => {
      const r = composeConfig(envFile(REQUIRED));
      const block = r.out.slice(r.out.indexOf('\nservices:\n'), r.out.indexOf('\nvolumes:\n'));
      const profiled = block
        .split(/\n {2}(?=[a-z][a-z0-9-]*:\n)/)
        .slice(1)
        .filter((svc) => /\n {4}profiles:\n/.test(svc))
        .map((svc) => svc.slice(0, svc.indexOf(':')));
      expect(profiled).toEqual(['mailpit', 'report']);
      expect(block).toMatch(/\n {2}report:\n(?: {4}.*\n)*? {4}profiles:\n {4}- report\n/);
      expect(block).toMatch(/\n {2}mailpit:\n(?: {4}.*\n)*? {4}profiles:\n {4}- mail\n/);
    });

    it('runs every hostscope service hardened: read-only root, no capabilities, no privilege gain', () => {
      const r = composeConfig(envFile(REQUIRED), ['--profile', 'report']);
      expect(r.status).toBe(0);
      const block = r.out.slice(r.out.indexOf('\nservices:\n'), r.out.indexOf('\nvolumes:\n'));
      const services = block.split(/\n {2}(?=[a-z][a-z0-9-]*:\n)/).slice(1);
      const ours = services.filter((svc) => /\n {4}image: hostscope:/.test(svc));
      expect(ours.map((svc) => svc.slice(0, svc.indexOf(':'))).sort()).toEqual([
        'alertmanager-config',
        'hostscope',
        'report',
        'sink',
      ]);
      for (const svc of ours) {
        const name = svc.slice(0, svc.indexOf(':'));
        const has = (re: RegExp): [string, boolean] => [name, re.test(svc)];
        expect(has(/\n {4}read_only: true\n/)).toEqual([name, true]);
        expect(has(/\n {4}cap_drop:\n {4}- ALL\n/)).toEqual([name, true]);
        expect(has(/\n {4}security_opt:\n {4}- no-new-privileges:true\n/)).toEqual([name, true]);
        expect(has(/\n {4}(cap_add|privileged|user):/)).toEqual([name, false]);
      }
    });

    it('refuses to start with the example .env as shipped (empty passwords)', () => {
      const r = composeConfig(EXAMPLE);
      expect(r.status).not.toBe(0);
      expect(r.err).toMatch(/set (POSTGRES_PASSWORD|GRAFANA_ADMIN_PASSWORD|DOCKER_GID) in \.env/);
    });

    it.each(Object.keys(REQUIRED))('refuses to start without %s and says to set it', (name) => {
      const r = composeConfig(envFile({ ...REQUIRED, [name]: '' }));
      expect(r.status).not.toBe(0);
      expect(r.err).toContain(`set ${name} in .env`);
    });

    it('pins every image, has no default password and a healthcheck or restart policy per service', () => {
      const text = readFileSync(COMPOSE_FILE, 'utf8');
      const images = [...text.matchAll(/^\s+image: (\S+)$/gm)].map((m) => m[1] ?? '');
      expect(images.length).toBeGreaterThanOrEqual(6);
      for (const image of images) {
        expect(image).toMatch(/:[^:]+$/);
        expect(image).not.toMatch(/:latest$/);
      }
      // A password may only come from .env, never from a ${VAR:-default}.
      expect(text).not.toMatch(/\$\{[A-Z_]*PASSWORD:?-/);
      expect(text).toMatch(/\$\{POSTGRES_PASSWORD:\?/);
      const r = composeConfig(envFile(REQUIRED), ['--profile', 'mail']);
      const block = r.out.slice(r.out.indexOf('\nservices:\n'), r.out.indexOf('\nvolumes:\n'));
      const perService = block.split(/\n {2}(?=[a-z][a-z0-9-]*:\n)/).slice(1);
      expect(perService.length).toBe(9);
      for (const svc of perService) {
        const name = svc.slice(0, svc.indexOf(':'));
        expect([name, /\n {4}restart: /.test(svc)]).toEqual([name, true]);
        // The exporter and the sink inherit the image's HEALTHCHECK; the render job runs once; the report
        // has no listener to check (it logs every run).
        if (!['hostscope', 'sink', 'alertmanager-config', 'report'].includes(name))
          expect([name, /\n {4}healthcheck:\n(?: {6}.*\n)*? {6}test:/.test(svc)]).toEqual([name, true]);
      }
    });
  },
);
