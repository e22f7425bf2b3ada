import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseProcStat } from '../../../src/collectors/stat.parse';

const FIXTURE = readFileSync(path.join(__dirname, '../../fixtures/host/proc/stat'), 'utf8');

describe('parseProcStat', () => {
  it('reads per-CPU times in seconds, skipping the all-CPU line and keeping real CPU ids', () => {
    const stat = parseProcStat(FIXTURE);
    expect([...stat.cpus.keys()]).toEqual(['0', '1', '3']);
    expect(stat.cpus.get('0')).toEqual({
      user: 76.01,
      nice: 3.01,
      system: 39.01,
      idle: 6278.11,
      iowait: 14.17,
      irq: 0,
      softirq: 4.03,
      steal: 0.23,
      guest: 0.4,
      guestNice: 0.02,
    });
    expect(stat.cpus.get('3')?.user).toBe(150.05);
  });

  it('reads the scalar lines and the softirq vectors', () => {
    const stat = parseProcStat(FIXTURE);
    expect(stat.interrupts).toBe(1287345);
    expect(stat.contextSwitches).toBe(2345678);
    expect(stat.bootTime).toBe(1700000000);
    expect(stat.forks).toBe(45678);
    expect(stat.procsRunning).toBe(3);
    expect(stat.procsBlocked).toBe(1);
    expect(stat.softirq?.total).toBe(987654);
    expect(stat.softirq?.vectors).toEqual({
      hi: 12,
      timer: 345678,
      net_tx: 23,
      net_rx: 45678,
      block: 12345,
      block_iopoll: 0,
      tasklet: 678,
      sched: 234567,
      hrtimer: 0,
      rcu: 348673,
    });
  });

  it('reads missing trailing CPU columns (old kernels) as zero', () => {
    const stat = parseProcStat('cpu0 100 0 50 1000\n');
    expect(stat.cpus.get('0')).toEqual({
      user: 1,
      nice: 0,
      system: 0.5,
      idle: 10,
      iowait: 0,
      irq: 0,
      softirq: 0,
      steal: 0,
      guest: 0,
      guestNice: 0,
    });
  });

  it('leaves absent lines undefined and ignores unknown keys and bare keys', () => {
    const stat = parseProcStat('ctxt 5\nfoo 1 2\nbtime\n\n');
    expect(stat.contextSwitches).toBe(5);
    expect(stat.bootTime).toBeUndefined();
    expect(stat.softirq).toBeUndefined();
    expect(stat.cpus.size).toBe(0);
  });

  it('rejects malformed values on known lines', () => {
    expect(() => parseProcStat('cpu0 1 x 3\n')).toThrow(/cpu/);
    expect(() => parseProcStat('cpuX 1 2 3\n')).toThrow(/cpu\/cpuid/);
    expect(() => parseProcStat('ctxt -1\n')).toThrow(/ctxt/);
    expect(() => parseProcStat('softirq 10 1 2 3\n')).toThrow(/softirq/);
  });
});
