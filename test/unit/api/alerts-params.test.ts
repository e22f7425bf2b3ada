import { parseAlertsParams } from '../../../src/api/alerts';

const NOW = 1_714_568_400;
const parse = (qs: string) => parseAlertsParams(new URLSearchParams(qs), NOW);

describe('GET /api/v1/alerts parameters', () => {
  it('defaults to every instance, the last 7 days and 100 rows', () => {
    expect(parse('')).toEqual({ ok: true, value: { since: NOW - 7 * 86_400, limit: 100 } });
    expect(parse('instance=web-1:9100&since=2024-05-01T00:00:00Z&limit=5')).toEqual({
      ok: true,
      value: { instance: 'web-1:9100', since: Date.parse('2024-05-01T00:00:00Z') / 1000, limit: 5 },
    });
  });

  it.each([
    ['step=1', 'step', 'unknown parameter'],
    ['limit=1&limit=2', 'limit', 'more than once'],
    ['instance=', 'instance', 'empty'],
    [`instance=${'x'.repeat(4097)}`, 'instance', 'longer'],
    ['since=yesterday', 'since', 'RFC 3339'],
    [`since=${NOW - 401 * 86_400}`, 'since', '400 days'],
    [`since=${NOW + 60}`, 'since', 'future'],
    ['limit=0', 'limit', 'between 1 and 500'],
    ['limit=501', 'limit', 'between 1 and 500'],
    ['limit=ten', 'limit', 'whole number'],
  ])('%s is a 400 naming %s', (qs, parameter, message) => {
    const r = parse(qs);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.parameter).toBe(parameter);
    expect(r.error.message).toContain(message);
  });
});
