/**
 * Migration 4: a block-shaped head for scraped samples. Every sample of a scrape shares the scrape's time,
 * so the sink writes one `samples_blocks` row per 128 consecutive series ids, scrape time and target, the values
 * as a float8[] indexed by `series_id % 128` (NULL where a series of the block had no sample). A 300k-sample
 * scrape is ~2,400 rows and index entries instead of 300k: PostgreSQL's per-row cost (tuple, WAL record,
 * primary-key insert) is paid once per 128 samples. `samples_raw` stays the head for samples with their
 * own timestamps (remote write, import, exposition timestamps). Compaction empties both into `chunks`.
 * docs/sql.md explains the design.
 */
export const name = 'blocks';

/** Series ids per block row: 128 float8 keep a row under PostgreSQL's ~2 kB TOAST threshold (no compression on insert). */
export const BLOCK_WIDTH = 128;

export const sql = `
-- source: a 32-bit hash of the scraped target. Targets scraped in the same round share its time, and two
-- targets' series may share a block: each writes its own row, so neither collides with the other.
CREATE TABLE hostscope.samples_blocks (
  block bigint NOT NULL,
  time timestamptz NOT NULL,
  source integer NOT NULL,
  "values" double precision[] NOT NULL,
  PRIMARY KEY (block, time, source)
) PARTITION BY RANGE (time);

-- The block partition for one hour (always hourly; created beside the hour's samples_raw partition).
CREATE FUNCTION hostscope.ensure_block_partition(hour timestamptz)
RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
  suffix text := to_char(hour AT TIME ZONE 'UTC', '"p"YYYYMMDDHH24');
BEGIN
  PERFORM hostscope.ensure_partition('samples_blocks', suffix, hour, hour + interval '1 hour');
  RETURN 'samples_blocks_' || suffix;
END
$fn$;

-- A retried or concurrent write of a block row that exists: the stored values win, new positions are added.
CREATE FUNCTION hostscope.merge_block(stored double precision[], incoming double precision[])
RETURNS double precision[] LANGUAGE sql IMMUTABLE AS $fn$
  SELECT array_agg(COALESCE(stored[i], incoming[i]) ORDER BY i)
    FROM generate_series(1, greatest(cardinality(stored), cardinality(incoming))) AS i
$fn$;

-- The (series_id, time, value) rows of the block rows of a time range.
CREATE FUNCTION hostscope.block_samples(from_time timestamptz, to_time timestamptz)
RETURNS TABLE (series_id bigint, "time" timestamptz, value double precision)
LANGUAGE sql STABLE AS $fn$
  SELECT x.id, x.time, x.v
    FROM (SELECT b.block * ${BLOCK_WIDTH} + generate_subscripts(b."values", 1) - 1 AS id, b.time,
                 unnest(b."values") AS v
            FROM hostscope.samples_blocks b
           WHERE b.time >= from_time AND b.time < to_time) x
   WHERE x.v IS NOT NULL
$fn$;

CREATE OR REPLACE FUNCTION hostscope.samples_range(from_time timestamptz, to_time timestamptz)
RETURNS TABLE (series_id bigint, "time" timestamptz, value double precision)
LANGUAGE sql STABLE AS $fn$
  SELECT r.series_id, r.time, r.value
    FROM hostscope.samples_raw r
   WHERE r.time >= from_time AND r.time < to_time
  UNION ALL
  SELECT b.series_id, b.time, b.value FROM hostscope.block_samples(from_time, to_time) b
  UNION ALL
  SELECT x.series_id, x.t, x.v
    FROM (SELECT c.series_id, unnest(ct.times) AS t, unnest(c."values") AS v
            FROM hostscope.chunks c
            JOIN hostscope.chunk_times ct ON ct.start = c.start AND ct.id = c.times_id
           WHERE c.start < to_time AND c.start > from_time - interval '1 day' AND c.stop > from_time) x
   WHERE x.t >= from_time AND x.t < to_time
$fn$;

-- The block branch picks the series' element of its block's rows, so a condition on metric or labels
-- selects the series first and reads only their blocks (by the primary key).
CREATE OR REPLACE VIEW hostscope.samples AS
SELECT r.time, m.name AS metric, se.labels, r.value, r.series_id
  FROM hostscope.samples_raw r
  JOIN hostscope.series se ON se.id = r.series_id
  JOIN hostscope.metrics m ON m.id = se.metric_id
UNION ALL
SELECT b.time, m.name AS metric, se.labels, b."values"[se.id % ${BLOCK_WIDTH} + 1], se.id
  FROM hostscope.series se
  JOIN hostscope.metrics m ON m.id = se.metric_id
  JOIN hostscope.samples_blocks b ON b.block = se.id / ${BLOCK_WIDTH}
 WHERE b."values"[se.id % ${BLOCK_WIDTH} + 1] IS NOT NULL
UNION ALL
SELECT x.t, x.metric, x.labels, x.v, x.series_id
  FROM (SELECT unnest(ct.times) AS t, m.name AS metric, se.labels, unnest(c."values") AS v, c.series_id
          FROM hostscope.series se
          JOIN hostscope.metrics m ON m.id = se.metric_id
          JOIN hostscope.chunks c ON c.series_id = se.id
          JOIN hostscope.chunk_times ct ON ct.start = c.start AND ct.id = c.times_id) x;
`;
