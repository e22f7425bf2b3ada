import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseEnvFile, parseOsRelease } from '../../../src/collectors/os.parse';

const FIXTURE = path.join(__dirname, '../../fixtures/host/rootfs/usr/lib/os-release');
const env = (text: string) => Object.fromEntries(parseEnvFile(text));

describe('parseOsRelease', () => {
  it('reads the fixture (Ubuntu 22.04, with comments, single quotes and escapes)', () => {
    expect(parseOsRelease(readFileSync(FIXTURE, 'utf8'))).toEqual({
      name: 'Ubuntu',
      id: 'ubuntu',
      idLike: 'debian',
      prettyName: 'Ubuntu 22.04.3 LTS',
      variant: 'Server Edition',
      variantId: '',
      version: '22.04.3 LTS (Jammy Jellyfish)',
      versionId: '22.04',
      versionCodename: 'jammy',
      buildId: '2023-08-10 "nightly"',
      imageId: '',
      imageVersion: '',
      versionNumber: 22.04,
    });
  });

  it.each([
    ['12', 12],
    ['22.04', 22.04],
    ['3.18.4', 3.18],
    ['8.', 8],
    ['rolling', 0],
    ['', 0],
  ])('takes major.minor of VERSION_ID %j as %d', (versionId, expected) => {
    expect(parseOsRelease(`VERSION_ID="${versionId}"\n`).versionNumber).toBe(expected);
  });

  it('reports empty fields for keys that are absent', () => {
    expect(parseOsRelease('ID=alpine\n')).toMatchObject({
      id: 'alpine',
      name: '',
      versionId: '',
      versionNumber: 0,
    });
  });
});

describe('parseEnvFile (go-envparse rules)', () => {
  it('handles blank lines, comments, export, CRLF and surrounding blanks', () => {
    expect(
      env('# comment\n\n   # indented comment\nexport A=1\r\n  B = two words  \nC=\nexport=x\n'),
    ).toEqual({
      A: '1',
      B: 'two words',
      C: '',
      export: 'x',
    });
  });

  it('ends unquoted values at # and drops the blanks before it', () => {
    expect(env('A=value   # comment\nB=a#b\nC="quoted # kept"  # dropped\nD=#\n')).toEqual({
      A: 'value',
      B: 'a',
      C: 'quoted # kept',
      D: '',
    });
  });

  it('mixes quoting styles inside one value', () => {
    expect(env(`A=un'single \\n'"double \\"q\\""\n`)).toEqual({ A: 'unsingle \\ndouble "q"' });
  });

  it('decodes JSON escapes in double quotes, including surrogate pairs', () => {
    expect(env('A="tab\\there\\nnl \\/ \\\\ caf\\u00e9 \\ud83d\\udd25"\n')).toEqual({
      A: 'tab\there\nnl / \\ café 🔥',
    });
    expect(env('A="\\ud83d\\u0041"\n')).toEqual({ A: '\ufffd' });
  });

  it('keeps UTF-8 text as is', () => {
    expect(env('NAME="Fedora Linux – Édition"\n')).toEqual({ NAME: 'Fedora Linux – Édition' });
  });

  it('takes the last of repeated keys, and the last line without a newline', () => {
    expect(env('A=1\nA=2\nB=3')).toEqual({ A: '2', B: '3' });
  });

  it.each([
    ['NAME="Debian', /line 1: unmatched "/],
    ["A=1\nB='x", /line 2: unmatched '/],
    ['A="x\\', /incomplete escape/],
    ['A="\\q"', /invalid escape/],
    ['A="\\u12"', /\\u escape/],
    ['A="\\ud83d"', /surrogate/],
    ['A="\\é"', /multibyte/],
    ['A=x\ty', /0x09 is an invalid value character/],
    ['just words', /line 1: missing =/],
    ['=1', /empty key/],
    ['1A=1', /invalid key/],
    ['A-B=1', /invalid key/],
  ])('rejects %j', (text, message) => {
    expect(() => parseEnvFile(text)).toThrow(message);
  });

  it('rejects a line longer than bufio.Scanner allows', () => {
    expect(() => parseEnvFile(`A=${'x'.repeat(70_000)}\n`)).toThrow(/too long/);
  });
});
