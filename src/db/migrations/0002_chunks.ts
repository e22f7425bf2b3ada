/**
 * Migration 2: compact sample storage. `samples_raw` stays as the row-per-sample head (new partitions are
 * hourly; day partitions made by migration 1 are converted by `maintain`, one hour at a time). Closed
 * hours are compacted into `chunks`: one row per series and block of hours holding its values as a
 * TOAST-compressed float8[], with the timestamps kept once per distinct set in `chunk_times` (every
 * series of a target shares its scrape times). docs/sql.md explains the design.
 */
export const name = 'chunks';

export const sql = `
CREATE TABLE hostscope.chunk_times (
  start timestamptz NOT NULL,
  id bigint NOT NULL,
  times timestamptz[] NOT NULL,
  PRIMARY KEY (start, id)
) PARTITION BY RANGE (start);

CREATE TABLE hostscope.chunks (
  series_id bigint NOT NULL,
  start timestamptz NOT NULL,
  stop timestamptz NOT NULL,
  times_id bigint NOT NULL,
  count integer NOT NULL,
  "values" double precision[] NOT NULL,
  PRIMARY KEY (series_id, start)
) PARTITION BY RANGE (start);
-- Compaction and rollups select chunks by time across all series; chunks are written in time order.
CREATE INDEX chunks_start_brin ON hostscope.chunks USING brin (start);

-- lz4 where the server has it (PostgreSQL 14+ built with lz4): faster than pglz at a similar ratio on
-- these arrays. Elsewhere (PostgreSQL 13, PGlite) the default pglz.
DO $do$
BEGIN
  EXECUTE 'ALTER TABLE hostscope.chunks ALTER COLUMN "values" SET COMPRESSION lz4';
  EXECUTE 'ALTER TABLE hostscope.chunk_times ALTER COLUMN times SET COMPRESSION lz4';
EXCEPTION WHEN OTHERS THEN
  NULL;
END
$do$;

-- Every sample between two times, from the head and the chunks that overlap the range (a chunk spans at
-- most one UTC day, which bounds the chunk scan from below). Inlined by the planner.
CREATE FUNCTION hostscope.samples_range(from_time timestamptz, to_time timestamptz)
RETURNS TABLE (series_id bigint, "time" timestamptz, value double precision)
LANGUAGE sql STABLE AS $fn$
  SELECT r.series_id, r.time, r.value
    FROM hostscope.samples_raw r
   WHERE r.time >= from_time AND r.time < to_time
  UNION ALL
  SELECT x.series_id, x.t, x.v
    FROM (SELECT c.series_id, unnest(ct.times) AS t, unnest(c."values") AS v
            FROM hostscope.chunks c
            JOIN hostscope.chunk_times ct ON ct.start = c.start AND ct.id = c.times_id
           WHERE c.start < to_time AND c.start > from_time - interval '1 day' AND c.stop > from_time) x
   WHERE x.t >= from_time AND x.t < to_time
$fn$;

-- Each branch joins the dictionaries itself, so a condition on metric or labels selects the series first
-- and only their chunks are read and decompressed. The arrays are unnested in the select list (in step,
-- one row per element), which PostgreSQL runs about twice as fast as unnest() in FROM.
CREATE OR REPLACE VIEW hostscope.samples AS
SELECT r.time, m.name AS metric, se.labels, r.value, r.series_id
  FROM hostscope.samples_raw r
  JOIN hostscope.series se ON se.id = r.series_id
  JOIN hostscope.metrics m ON m.id = se.metric_id
UNION ALL
SELECT x.t, x.metric, x.labels, x.v, x.series_id
  FROM (SELECT unnest(ct.times) AS t, m.name AS metric, se.labels, unnest(c."values") AS v, c.series_id
          FROM hostscope.series se
          JOIN hostscope.metrics m ON m.id = se.metric_id
          JOIN hostscope.chunks c ON c.series_id = se.id
          JOIN hostscope.chunk_times ct ON ct.start = c.start AND ct.id = c.times_id) x;

-- Hourly rollups of the per-scrape usage tables (averages and peaks), so panels over months read one row
-- per host or container and hour instead of one per scrape. Kept like samples_hourly.
CREATE TABLE hostscope.host_usage_hourly (
  time timestamptz NOT NULL,
  instance text NOT NULL,
  job text NOT NULL,
  host text NOT NULL,
  samples integer NOT NULL,
  cpu_percent_avg double precision,
  cpu_percent_max double precision,
  memory_percent_avg double precision,
  memory_percent_max double precision,
  load1_max double precision,
  PRIMARY KEY (instance, time)
) PARTITION BY RANGE (time);

CREATE TABLE hostscope.container_usage_hourly (
  time timestamptz NOT NULL,
  instance text NOT NULL,
  job text NOT NULL,
  host text NOT NULL,
  container text NOT NULL,
  container_id text NOT NULL,
  image text NOT NULL,
  samples integer NOT NULL,
  cpu_percent_avg double precision,
  cpu_percent_max double precision,
  memory_usage_bytes_avg double precision,
  memory_usage_bytes_max bigint,
  memory_percent_max double precision,
  PRIMARY KEY (instance, container_id, time)
) PARTITION BY RANGE (time);

-- The head partition that takes rows of one hour: the day partition when migration 1 made one for that
-- day, else the hour's own partition (created here).
CREATE FUNCTION hostscope.ensure_head_partition(hour timestamptz)
RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
  day_name text := 'samples_raw_' || to_char(hour AT TIME ZONE 'UTC', '"p"YYYYMMDD');
BEGIN
  IF to_regclass(format('hostscope.%I', day_name)) IS NOT NULL THEN
    RETURN day_name;
  END IF;
  PERFORM hostscope.ensure_partition('samples_raw', to_char(hour AT TIME ZONE 'UTC', '"p"YYYYMMDDHH24'),
                                     hour, hour + interval '1 hour');
  RETURN day_name || to_char(hour AT TIME ZONE 'UTC', 'HH24');
END
$fn$;
`;
