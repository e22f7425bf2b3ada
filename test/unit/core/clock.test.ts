import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { clockFlagProblems, OffsetFileClock, parseClockOffset } from '../../../src/config/clock';
import { FlagValues, formatHelp } from '../../../src/config/flags';
import { sinkFlagSpecs } from '../../../src/sink/config';

describe('clock offset file (--testing.clock-offset-file)', () => {
  let dir: string;
  let file: string;
  /** Replaces the file atomically, as the docs ask, so each version is a new inode. */
  const put = (text: string): void => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hostscope-clock-'));
    file = path.join(dir, 'offset');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a signed whole number of milliseconds, within ten years', () => {
    expect(parseClockOffset('3600000\n')).toEqual({ offsetMs: 3_600_000 });
    expect(parseClockOffset(' -600000 ')).toEqual({ offsetMs: -600_000 });
    expect(parseClockOffset('+5')).toEqual({ offsetMs: 5 });
    expect(parseClockOffset('-0')).toEqual({ offsetMs: 0 });
    for (const bad of ['', '1h', '1.5', '0x10', '1e6', 'NaN', '99999999999999'])
      expect(parseClockOffset(bad)).toHaveProperty('problem');
  });

  it('follows the file as it changes, and keeps the last good offset when it turns bad', () => {
    put('0');
    const clock = OffsetFileClock.open(file);
    const near = (ms: number): void => expect(Math.abs(clock.now() - (Date.now() + ms))).toBeLessThan(50);
    near(0);
    put('3600000');
    near(3_600_000);
    put('-4200000');
    near(-4_200_000);
    put('garbage');
    near(-4_200_000);
    rmSync(file);
    near(-4_200_000);
    put('0');
    near(0);
  });

  it('is refused at start, naming the flag, when missing or invalid', () => {
    const flags = (v: string): FlagValues => new FlagValues(new Map([['testing.clock-offset-file', v]]));
    expect(clockFlagProblems(flags(''))).toEqual([]);
    expect(clockFlagProblems(flags(path.join(dir, 'none')))).toEqual([
      expect.stringMatching(
        /^--testing\.clock-offset-file \(env HOSTSCOPE_TESTING_CLOCK_OFFSET_FILE\): cannot read/,
      ),
    ]);
    put('an hour');
    expect(clockFlagProblems(flags(file))).toEqual([
      expect.stringMatching(/expected a whole number of milliseconds/),
    ]);
    put('60000');
    expect(clockFlagProblems(flags(file))).toEqual([]);
  });

  it('is listed apart from the other flags in --help, as a testing aid', () => {
    const help = formatHelp('sink', 'summary', sinkFlagSpecs());
    const aids = help.indexOf('Testing aids (not for production use):');
    expect(aids).toBeGreaterThan(help.indexOf('--log.format'));
    expect(help.indexOf('--testing.clock-offset-file')).toBeGreaterThan(aids);
  });
});
