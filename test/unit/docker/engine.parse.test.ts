import {
  connectionOptions,
  engineInfoFrom,
  isIgnoredAction,
  metaFromInspect,
  parseEvent,
  unixSeconds,
} from '../../../src/collectors/docker/engine.parse';
import { loadJson } from '../../helpers/docker-replay';

describe('metaFromInspect (recorded inspect documents)', () => {
  it('keeps what the collector needs from a running, health-checked, limited container', () => {
    const meta = metaFromInspect(loadJson('v1', 'inspect-fx-web.json'));
    expect(meta).toMatchObject({
      id: '65113ef10f7bc19b3bdf5647d5c3a18687b63df10044793ee636ce83740bd8de',
      name: 'fx-web',
      image: 'local/busybox',
      state: 'running',
      pid: 13201,
      restartCount: 0,
      exitCode: 0,
      oomKilled: false,
      health: 'healthy',
      networkMode: 'none',
      cgroupParent: '',
      resources: { nanoCpus: 500000000, memory: 67108864, memoryReservation: 33554432, cpuQuota: 0 },
    });
    expect(meta?.labels['com.docker.compose.service']).toBe('web');
    expect(meta?.labels['org.example/quote']).toBe('say "hi"');
    expect(meta?.upperDir).toMatch(/^\/var\/lib\/docker\/overlay2\/[0-9a-f]+\/diff$/);
    expect(meta?.logPath).toMatch(/-json\.log$/);
    expect(meta?.createdSeconds).toBe(
      unixSeconds(String((loadJson('v1', 'inspect-fx-web.json') as { Created: string }).Created)),
    );
  });

  it('reports no health check as "none" and tolerates missing sections', () => {
    expect(metaFromInspect(loadJson('v1', 'inspect-fx-db.json'))?.health).toBe('none');
    expect(metaFromInspect({ Id: 'abc', State: { Running: true } })).toMatchObject({
      id: 'abc',
      name: '',
      state: 'running',
      labels: {},
      pid: 0,
    });
    expect(metaFromInspect({})).toBeUndefined();
    expect(metaFromInspect(null)).toBeUndefined();
  });

  it('truncates RFC 3339 nanosecond timestamps to seconds like Go time.Unix()', () => {
    expect(unixSeconds('2026-11-25T17:54:02.999999999Z')).toBe(
      Math.floor(Date.UTC(2026, 10, 25, 17, 54, 2) / 1000),
    );
    expect(unixSeconds('not a time')).toBe(0);
  });
});

describe('engineInfoFrom', () => {
  it('reads the cgroup driver and version', () => {
    expect(engineInfoFrom(loadJson('v1', 'info.json'))).toMatchObject({
      cgroupDriver: 'cgroupfs',
      cgroupVersion: '1',
      dockerRootDir: '/var/lib/docker',
    });
    expect(engineInfoFrom(loadJson('v2', 'info.json'))).toMatchObject({
      cgroupDriver: 'systemd',
      cgroupVersion: '2',
    });
    expect(engineInfoFrom({})).toMatchObject({ cgroupDriver: 'cgroupfs', cgroupVersion: '1' });
  });
});

describe('parseEvent', () => {
  it('splits the action from its argument', () => {
    expect(parseEvent({ Type: 'container', Action: 'health_status: healthy', Actor: { ID: 'x' } })).toEqual({
      id: 'x',
      action: 'health_status',
      detail: 'healthy',
    });
    expect(parseEvent({ Type: 'container', Action: 'exec_start: /bin/sh -c true', id: 'x' })?.action).toBe(
      'exec_start',
    );
    expect(parseEvent({ status: 'die', id: 'y' })).toEqual({ id: 'y', action: 'die', detail: '' });
  });

  it('ignores other object types and incomplete events', () => {
    expect(parseEvent({ Type: 'network', Action: 'connect', Actor: { ID: 'n' } })).toBeUndefined();
    expect(parseEvent({ Type: 'container', Action: 'start' })).toBeUndefined();
    expect(isIgnoredAction('exec_die')).toBe(true);
    expect(isIgnoredAction('die')).toBe(false);
  });
});

describe('connectionOptions', () => {
  it('understands unix sockets and tcp addresses', () => {
    expect(connectionOptions('unix:///var/run/docker.sock')).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(connectionOptions('/run/podman/podman.sock')).toEqual({ socketPath: '/run/podman/podman.sock' });
    expect(connectionOptions('tcp://10.0.0.5:2375')).toEqual({
      host: '10.0.0.5',
      port: 2375,
      protocol: 'http',
    });
    expect(connectionOptions('tcp://docker.example:2376')).toMatchObject({ protocol: 'https', port: 2376 });
    expect(connectionOptions('localhost:2375')).toMatchObject({ host: 'localhost', port: 2375 });
    expect(() => connectionOptions('ssh://user@host')).toThrow(/unsupported Docker host/);
  });
});
