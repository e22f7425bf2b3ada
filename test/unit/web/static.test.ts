import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync, brotliCompressSync } from 'node:zlib';
import { loadStatic, negotiateEncoding } from '../../../src/web/static';

describe('static files of the page', () => {
  it('negotiates brotli, then gzip, honouring q=0 and *', () => {
    expect(negotiateEncoding('gzip, deflate, br', ['br', 'gzip'])).toBe('br');
    expect(negotiateEncoding('gzip, br;q=0', ['br', 'gzip'])).toBe('gzip');
    expect(negotiateEncoding('br', ['gzip'])).toBe('identity');
    expect(negotiateEncoding('*', ['br', 'gzip'])).toBe('br');
    expect(negotiateEncoding('*;q=0, gzip', ['br', 'gzip'])).toBe('gzip');
    expect(negotiateEncoding(undefined, ['br', 'gzip'])).toBe('identity');
    expect(negotiateEncoding('GZIP;q=0.5', ['gzip'])).toBe('gzip');
  });

  it('loads each file with its compressed copies, and nothing of unknown types', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hs-static-'));
    try {
      writeFileSync(path.join(dir, 'index.html'), '<p>hi</p>');
      writeFileSync(path.join(dir, 'index.html.gz'), gzipSync('<p>hi</p>'));
      writeFileSync(path.join(dir, 'index.html.br'), brotliCompressSync('<p>hi</p>'));
      writeFileSync(path.join(dir, 'app.js'), 'x()');
      writeFileSync(path.join(dir, 'notes.txt'), 'no');
      const files = loadStatic(dir);
      expect([...files.keys()].sort()).toEqual(['app.js', 'index.html']);
      expect(files.get('index.html')?.type).toBe('text/html; charset=utf-8');
      expect(files.get('index.html')?.br).toBeDefined();
      expect(files.get('app.js')?.gzip).toBeUndefined();
      expect(loadStatic(path.join(dir, 'missing')).size).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
