import type { ParsedFamily, SeriesLine } from '../expfmt/types';
import { BinaryCopyWriter, splitTimestamp } from '../db/binary-copy';
import {
  copyNewRows,
  isConnectionError,
  sqlState,
  transaction,
  type Database,
  type Queryable,
} from '../db/database';
import { dayStart, hourStart, PartitionManager } from '../db/partitions';
import type { Logger } from '../log/logger';
import { sameLabels } from '../metrics/same-labels';
import { BlockBatch } from '../storage/block-batch';
import { applyInventory } from './inventory';
import {
  canonicalKey,
  fastKey,
  labelsJson,
  pgSafe,
  sha256Hex,
  storedLabels,
  targetPrefix,
} from './series-key';
import type { PendingScrape, Target } from './types';
import { usageCopyParts } from './usage-copy';

/** Series resolved per statement: a cold start on 300k series takes 15 round trips, not 120. */
const RESOLVE_CHUNK = 20_000;

export interface WriteResult {
  readonly written: number;
  /** Samples skipped: duplicate series in one scrape, or a timestamp outside the accepted window. */
  readonly skipped: number;
  /** True when the fast COPY hit rows already stored (a retried batch) and the idempotent path ran. */
  readonly deduplicated: boolean;
}

/**
 * The samples of a target's last written scrape in order (parses without a ParseCache): `ids` holds series
 * ids once `resolved`, and before that (a scrape of the write in progress) positions in that write.
 */
interface ScrapeLayout {
  readonly names: string[];
  readonly labels: Readonly<Record<string, string>>[];
  readonly ids: number[];
  resolved: boolean;
}

/** A series not in the cache: resolve() sets its id. */
interface Miss {
  id: number;
  readonly fast: string;
  readonly metric: string;
  readonly family: ParsedFamily;
  readonly labels: Readonly<Record<string, string>>;
  readonly target: Target;
}

/** A head table and how a retried COPY into it is merged with what is stored (see copySamples). */
interface HeadTable {
  readonly table: string;
  readonly columns: string;
  /** Stores the payload's samples that are not stored yet, in the caller's transaction; returns how many. */
  merge(s: Queryable, payload: Buffer): Promise<number>;
}

const ROWS: HeadTable = {
  table: 'samples_raw',
  columns: 'series_id, time, value',
  async merge(s, payload) {
    await s.exec(
      `CREATE TEMP TABLE IF NOT EXISTS hostscope_samples_staging
         (series_id bigint, time timestamptz, value double precision) ON COMMIT DELETE ROWS`,
    );
    await s.copyBinary('hostscope_samples_staging (series_id, time, value)', payload);
    const [row] = await s.query<{ n: number }>(
      `WITH ins AS (
         INSERT INTO hostscope.samples_raw (series_id, time, value)
         SELECT series_id, time, value FROM hostscope_samples_staging ON CONFLICT DO NOTHING RETURNING 1)
       SELECT count(*)::int AS n FROM ins`,
    );
    return row?.n ?? 0;
  },
};

/**
 * A block row that exists already (a retried batch; or, rarely, another target whose 32-bit source hash is
 * the same, with series in the same block, scraped at the same millisecond) keeps its values and gains
 * the positions it lacked.
 */
const BLOCKS: HeadTable = {
  table: 'samples_blocks',
  columns: 'block, time, source, "values"',
  async merge(s, payload) {
    await s.exec(
      `CREATE TEMP TABLE IF NOT EXISTS hostscope_blocks_staging
         (block bigint, time timestamptz, source integer, "values" double precision[]) ON COMMIT DELETE ROWS`,
    );
    await s.copyBinary('hostscope_blocks_staging (block, time, source, "values")', payload);
    const [row] = await s.query<{ n: number }>(
      `WITH fresh AS (
         SELECT count(*)::int AS n
           FROM hostscope_blocks_staging st
           LEFT JOIN hostscope.samples_blocks b
                  ON b.block = st.block AND b.time = st.time AND b.source = st.source
          CROSS JOIN LATERAL generate_subscripts(st."values", 1) AS i
          WHERE st."values"[i] IS NOT NULL AND (b."values" IS NULL OR b."values"[i] IS NULL)
       ), up AS (
         INSERT INTO hostscope.samples_blocks (block, time, source, "values")
         SELECT block, time, source, "values" FROM hostscope_blocks_staging
         ON CONFLICT (block, time, source) DO UPDATE
           SET "values" = hostscope.merge_block(samples_blocks."values", EXCLUDED."values")
         RETURNING 1)
       SELECT (SELECT n FROM fresh) AS n, (SELECT count(*) FROM up) AS rows`,
    );
    return row?.n ?? 0;
  },
};

/** A chunk of cache misses with their canonical key hashes and the ids found for them. */
interface ResolveChunk {
  readonly byHash: Map<string, Miss[]>;
  readonly hashes: string[];
  readonly labelSets: [string, string][][];
  readonly metricIds: number[];
  readonly ids: (number | undefined)[];
}

/**
 * Where the samples of one write whose series ids are not known yet take them from once resolve() ran: a
 * miss, or an earlier sample of the same write (a repeat of a series that is itself waiting).
 */
class Deferred {
  readonly at: number[] = [];
  readonly from: (Miss | number)[] = [];

  add(at: number, from: Miss | number): void {
    this.at.push(at);
    this.from.push(from);
  }

  /** Fills ids[] in order: a position always refers to an earlier sample, filled before it. */
  fill(ids: Float64Array): void {
    for (let k = 0; k < this.at.length; k++) {
      const from = this.from[k] as Miss | number;
      ids[this.at[k] as number] = typeof from === 'number' ? (ids[from] as number) : from.id;
    }
  }
}

/** Per-write columns, reused from write to write (a 300k-sample scrape would otherwise allocate ~8 MB). */
class WriteScratch {
  ids = new Float64Array(0);
  values = new Float64Array(0);
  /** Own timestamps (NaN for none): only writes of samples that carry them (import) size this one. */
  private times = new Float64Array(0);
  busy = false;

  /** The timestamp column for n samples, all NaN. */
  timestamps(n: number): Float64Array {
    if (this.times.length < n) this.times = new Float64Array(this.ids.length);
    const t = this.times.subarray(0, n);
    t.fill(NaN);
    return t;
  }

  /** Room for n samples; a write that finds the scratch busy (none does today) gets its own. */
  take(n: number): WriteScratch {
    const s = this.busy ? new WriteScratch() : this;
    if (s.ids.length < n) {
      const size = Math.max(n, Math.ceil(s.ids.length * 1.25));
      s.ids = new Float64Array(size);
      s.values = new Float64Array(size);
    }
    s.busy = true;
    return s;
  }
}

/** Tokens that mark which writer and target a SeriesLine's ref belongs to; never reused. */
let lastToken = 0;

/** The `source` of a target's block rows: a 32-bit FNV-1a hash of its series key prefix. */
function sourceOf(prefix: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < prefix.length; i++) {
    h ^= prefix.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** Histogram and summary parts and counters are cumulative: the hourly rollup computes their increase. */
export function isCounterSample(family: ParsedFamily, sampleName: string): boolean {
  if (sampleName.endsWith('_created')) return false;
  if (family.type === 'counter') return true;
  if (family.type === 'histogram')
    return sampleName.endsWith('_bucket') || sampleName.endsWith('_count') || sampleName.endsWith('_sum');
  if (family.type === 'summary') return sampleName.endsWith('_count') || sampleName.endsWith('_sum');
  return false;
}

/**
 * Writes buffered scrapes: resolves each sample's series id through an in-memory cache (creating
 * missing metrics and series with parameterised upserts), encodes the rows as binary COPY and streams them
 * into the day-partitioned samples table. A COPY that collides with rows already stored (a batch that was
 * committed but whose acknowledgement was lost) is redone through a staging table with ON CONFLICT DO
 * NOTHING, so retries never duplicate and never fail.
 */
export class SampleWriter {
  /** Series ids by fastKey(). */
  private readonly series = new Map<string, number>();
  /** Per target, the samples of its last written scrape in order (see write()). */
  private readonly layouts = new Map<string, ScrapeLayout>();
  /**
   * Per target, the token its SeriesLines' refs carry. The parser hands out the same SeriesLine object
   * while a line repeats, and the line keeps its series id: one field read per sample, with no key built,
   * nothing hashed and no object or map entry per series. The token ties the id to this writer (its
   * database) and the target's labels; a new token disowns every ref written before.
   */
  private readonly tokens = new Map<string, number>();
  private readonly scratch = new WriteScratch();
  /**
   * Whether the series of the last chunk resolved mostly existed (a restart): then a chunk is looked up
   * before anything is inserted; else (new targets) inserted first, and only the conflicts looked up.
   */
  private expectExisting = true;
  /** The COPY buffer of the last write, written into again by the next (see BinaryCopyWriter). */
  private copyBuffer: Buffer | undefined;
  private readonly metrics = new Map<string, number>();
  private readonly partitions = new PartitionManager();
  /** Block rows of the write in progress (pooled arrays, reused by the next write). */
  private readonly blocks = new BlockBatch();

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    /** Samples with their own timestamp further than this from the scrape time are skipped. */
    private readonly maxSkewMs = { past: 14 * 86_400_000, future: 600_000 },
  ) {}

  get cachedSeries(): number {
    return this.series.size;
  }

  /**
   * Drops what is kept per target (scrape layout, line identities) for a target no longer scraped. Its
   * series ids stay in the key cache (an entry each), so a target that returns finds them without a query.
   */
  forgetTarget(target: Target): void {
    const prefix = targetPrefix(target);
    this.layouts.delete(prefix);
    this.tokens.delete(prefix);
  }

  /** Drops the caches (tests; or after the schema was recreated under us). */
  resetCaches(): void {
    this.series.clear();
    this.layouts.clear();
    this.tokens.clear();
    this.metrics.clear();
    this.partitions.reset();
  }

  async write(scrapes: readonly PendingScrape[], nowMs = Date.now()): Promise<WriteResult> {
    let total = 0;
    for (const s of scrapes) total += s.sampleCount;
    const scratch = this.scratch.take(total);
    try {
      return await this.writeWith(scratch, total, scrapes, nowMs);
    } finally {
      scratch.busy = false;
    }
  }

  private async writeWith(
    scratch: WriteScratch,
    total: number,
    scrapes: readonly PendingScrape[],
    nowMs: number,
  ): Promise<WriteResult> {
    // Pass 1: every sample's series id, from its line or the cache; misses are filled in by resolve().
    const { ids, values } = scratch;
    /** Per sample, its own timestamp (NaN for none); only made once a sample carries one. */
    let stamped: Float64Array | undefined;
    const scrapeEnds: number[] = [];
    const misses = new Map<string, Miss>();
    const deferred = new Deferred();
    /** Lines that get their ref once this write is stored, and the sample that has their id. */
    const newLines: SeriesLine[] = [];
    const newLineAt: number[] = [];
    const lineTokens: number[] = [];
    let n = 0;
    let skipped = 0;
    const layouts = new Map<string, ScrapeLayout>();
    const idOf = (
      at: number,
      prefix: string,
      name: string,
      labels: Readonly<Record<string, string>>,
      family: ParsedFamily,
      target: Target,
    ): number => {
      const key = fastKey(prefix, name, labels);
      const id = this.series.get(key);
      if (id !== undefined) return id;
      let miss = misses.get(key);
      if (miss === undefined) {
        miss = { fast: key, metric: name, family, labels, target, id: -1 };
        misses.set(key, miss);
      }
      deferred.add(at, miss);
      return -1;
    };
    for (const scrape of scrapes) {
      const prefix = targetPrefix(scrape.target);
      const low = scrape.timeMs - this.maxSkewMs.past;
      const high = scrape.timeMs + this.maxSkewMs.future;
      // Exporters list the same series in the same order every time: compare each sample with the one at
      // the same position in this target's previous scrape before building and hashing a cache key.
      const prev = layouts.get(prefix) ?? this.layouts.get(prefix);
      const layout: ScrapeLayout = { names: [], labels: [], ids: [], resolved: false };
      let token = this.tokens.get(prefix);
      if (token === undefined) {
        token = ++lastToken;
        this.tokens.set(prefix, token);
      }
      let pos = 0;
      for (const family of scrape.families) {
        const col = family.columnar;
        if (col !== undefined) {
          const { lines, values: vals, timestamps } = col.columns;
          for (const i of col.indices) {
            const ts = timestamps?.get(i);
            if (ts !== undefined && !(ts >= low && ts <= high)) {
              skipped++;
              continue;
            }
            const line = lines[i] as SeriesLine;
            if (line.refOwner === token) ids[n] = line.ref;
            else {
              ids[n] = idOf(n, prefix, line.name, line.labels, family, scrape.target);
              newLines.push(line);
              newLineAt.push(n);
              lineTokens.push(token);
            }
            values[n] = vals[i] as number;
            if (ts !== undefined) (stamped ??= scratch.timestamps(total))[n] = ts;
            n++;
          }
          continue;
        }
        for (const sample of family.samples) {
          const ts = sample.timestampMs;
          if (ts !== undefined && !(ts >= low && ts <= high)) {
            skipped++;
            continue;
          }
          if (
            prev !== undefined &&
            prev.names[pos] === sample.name &&
            // The parser hands out the same labels object for a repeated line (ParseCache).
            (prev.labels[pos] === sample.labels ||
              sameLabels(prev.labels[pos] as Readonly<Record<string, string>>, sample.labels))
          ) {
            const same = prev.ids[pos] as number;
            if (prev.resolved) ids[n] = same;
            else {
              // An earlier scrape of this write: same as the sample at that position, once it is known.
              ids[n] = ids[same] as number;
              if (ids[n] === -1) deferred.add(n, same);
            }
          } else ids[n] = idOf(n, prefix, sample.name, sample.labels, family, scrape.target);
          layout.names.push(sample.name);
          layout.labels.push(sample.labels);
          layout.ids.push(n);
          pos++;
          values[n] = sample.value;
          if (ts !== undefined) (stamped ??= scratch.timestamps(total))[n] = ts;
          n++;
        }
      }
      layouts.set(prefix, layout);
      scrapeEnds.push(n);
    }
    if (misses.size > 0) await this.resolve([...misses.values()]);
    deferred.fill(ids);

    // Pass 2: samples at their scrape's time go into block rows (samples_blocks), samples with their own
    // timestamp into (series_id, time, value) rows (samples_raw).
    const copy = new BinaryCopyWriter(1024, this.copyBuffer);
    this.copyBuffer = undefined; // in use until this write's COPY is done
    const blocks = this.blocks;
    blocks.clear();
    const hours = new Set<number>();
    const blockHours = new Set<number>();
    let written = 0;
    let rows = 0;
    let start = 0;
    scrapeEnds.forEach((end, k) => {
      const scrapeTime = (scrapes[k] as PendingScrape).timeMs;
      let seenTs: Set<string> | undefined;
      let lastT = NaN;
      let tHigh = 0;
      let tLow = 0;
      let grouped = false;
      for (let i = start; i < end; i++) {
        const id = ids[i] as number;
        const t = stamped === undefined ? NaN : (stamped[i] as number);
        if (Number.isNaN(t)) {
          if (!grouped) {
            grouped = true;
            blocks.at(scrapeTime, sourceOf(targetPrefix((scrapes[k] as PendingScrape).target)));
            blockHours.add(hourStart(scrapeTime));
          }
          // The first sample of a series in a scrape wins (Prometheus rejects the later ones as
          // duplicates), as does the first of two scrapes of a target at the same millisecond.
          if (blocks.add(id, values[i] as number)) written++;
          else skipped++;
          continue;
        }
        seenTs ??= new Set<string>();
        const key = `${id}@${t}`;
        if (seenTs.has(key)) {
          skipped++;
          continue;
        }
        seenTs.add(key);
        if (t !== lastT) {
          lastT = t;
          [tHigh, tLow] = splitTimestamp(t);
          hours.add(hourStart(t));
        }
        copy.sampleRow(id, tHigh, tLow, values[i] as number);
        rows++;
        written++;
      }
      start = end;
    });
    let deduplicated = false;
    if (rows > 0) {
      const payload = copy.finish();
      deduplicated = (await this.copySamples(ROWS, payload, hours)).deduplicated;
    }
    if (blocks.samples > 0) {
      const blockCopy = rows > 0 ? new BinaryCopyWriter(1024) : copy;
      blocks.encode(blockCopy);
      const r = await this.copySamples(BLOCKS, blockCopy.finish(), blockHours);
      if (r.deduplicated) deduplicated = true;
    }
    this.copyBuffer = copy.storage;
    blocks.clear();
    await this.writeSideTables(scrapes);
    await this.queueLateHours(new Set([...hours, ...blockHours]), nowMs);
    // Only now are all ids resolved and stored: remember the layouts and lines for the next scrapes.
    for (const [prefix, layout] of layouts) {
      for (let k = 0; k < layout.ids.length; k++) layout.ids[k] = ids[layout.ids[k] as number] as number;
      layout.resolved = true;
      this.layouts.set(prefix, layout);
    }
    newLines.forEach((line, k) => {
      const id = ids[newLineAt[k] as number] as number;
      // An id that fits in 31 bits is stored as a small integer, not boxed (a heap number per line).
      line.ref = (id | 0) === id ? id | 0 : id;
      line.refOwner = lineTokens[k] as number;
    });
    return { written, skipped, deduplicated };
  }

  /**
   * COPY into a head table (samples_raw or samples_blocks); on a key collision redo it idempotently
   * (deduplicated is true then). A missing partition (compacted and dropped by maintenance since we cached
   * it) is recreated once.
   */
  private async copySamples(
    head: HeadTable,
    payload: Buffer,
    hours: ReadonlySet<number>,
    attempt = 0,
    merge = false,
  ): Promise<{ deduplicated: false } | { deduplicated: true; inserted: number }> {
    const names: string[] = [];
    for (const h of hours)
      names.push(
        head === BLOCKS
          ? await this.partitions.ensureBlockHour(this.db, h)
          : await this.partitions.ensureHeadHour(this.db, h),
      );
    try {
      if (merge)
        return { deduplicated: true, inserted: await transaction(this.db, (s) => head.merge(s, payload)) };
      // All rows of one hour (the usual case): COPY straight into its partition, skipping routing.
      const [only] = names;
      const table = names.length === 1 && only !== undefined ? only : head.table;
      await this.db.copyBinary(`hostscope."${table}" (${head.columns})`, payload);
      return { deduplicated: false };
    } catch (err) {
      if (isConnectionError(err)) throw err;
      const state = sqlState(err);
      // 23514: no partition for a row; 42P01 (or XX000 "could not open relation" when it happened while
      // we waited for its lock): the cached partition was compacted and dropped meanwhile.
      if (state !== '23505' && attempt === 0) {
        this.partitions.reset();
        return this.copySamples(head, payload, hours, attempt + 1, merge);
      }
      if (state !== '23505') throw err;
    }
    this.logger.info(
      { table: head.table },
      'samples of this batch were already stored (retry after a lost commit); keeping the stored ones',
    );
    const inserted = await transaction(this.db, (s) => head.merge(s, payload));
    return { deduplicated: true, inserted };
  }

  /**
   * Queues for a new rollup the hours just written that maintenance may have rolled up already: those
   * before the current hour on this writer's clock, and those before the rollup watermark
   * (rollup_state.rolled_until). The watermark counts as well because the clock that closed an hour need
   * not be this one: after this sink's clock jumped back (maintenance ran while it was ahead), or when
   * another sink or a `hostscope maintain` elsewhere runs ahead of it, samples land in the "current" hour
   * of this clock that is closed and rolled up already, and without this its rollup would stay short of
   * them for good.
   */
  private async queueLateHours(hours: ReadonlySet<number>, nowMs: number): Promise<void> {
    if (hours.size === 0) return;
    await this.db.query(
      `INSERT INTO hostscope.rollup_pending (hour)
       SELECT h FROM unnest($1::timestamptz[]) AS h
        WHERE h < $2::timestamptz OR h < (SELECT rolled_until FROM hostscope.rollup_state WHERE id)
       ON CONFLICT DO NOTHING`,
      [[...hours].map((h) => new Date(h).toISOString()), new Date(hourStart(nowMs)).toISOString()],
    );
  }

  /**
   * Stores block rows encoded by a caller (remote write) in the block head hours `hours`: `fresh`, rows
   * whose (block, time, source) the caller has not written before, by COPY (merged on a collision: a
   * retry after a lost commit); `seen`, rows that may exist already (a block whose series came in two
   * requests), merged into them. Hours before the current one are queued for their rollup. Returns how
   * many samples were new.
   */
  async storeBlocks(
    fresh: { payload: Buffer; samples: number } | undefined,
    seen: Buffer | undefined,
    hours: ReadonlySet<number>,
    nowMs = Date.now(),
  ): Promise<number> {
    let written = 0;
    if (fresh !== undefined) {
      const r = await this.copySamples(BLOCKS, fresh.payload, hours);
      written += r.deduplicated ? r.inserted : fresh.samples;
    }
    if (seen !== undefined) {
      const r = await this.copySamples(BLOCKS, seen, hours, 0, true);
      if (r.deduplicated) written += r.inserted;
    }
    await this.queueLateHours(hours, nowMs);
    return written;
  }

  private async writeUsage(scrapes: readonly PendingScrape[]): Promise<void> {
    const hosts = [];
    const containers = [];
    for (const s of scrapes) {
      if (s.hostUsage !== undefined) hosts.push(s.hostUsage);
      containers.push(...s.containerUsage);
    }
    if (hosts.length > 0) {
      await this.partitions.ensureDays(
        this.db,
        'host_usage',
        new Set(hosts.map((h) => dayStart(Date.parse(h.time)))),
      );
    }
    if (containers.length > 0) {
      await this.partitions.ensureDays(
        this.db,
        'container_usage',
        new Set(containers.map((c) => dayStart(Date.parse(c.time)))),
      );
    }
    // Binary COPY (a big host has thousands of container rows a scrape); a replayed scrape whose rows
    // are stored already goes through copyNewRows' staging path and keeps them.
    const parts = usageCopyParts(hosts, containers);
    if (parts.length > 0) await this.db.session((s) => copyNewRows(s, parts));
  }

  /**
   * The series id of every sample of a scrape, in order, creating missing metrics and series; for
   * writers of compacted history (seed) that store values without going through the head.
   */
  async seriesIds(scrape: PendingScrape): Promise<number[]> {
    const prefix = targetPrefix(scrape.target);
    const found: (number | Miss)[] = [];
    const misses = new Map<string, Miss>();
    for (const family of scrape.families)
      for (const sample of family.samples) {
        const key = fastKey(prefix, sample.name, sample.labels);
        let hit: number | Miss | undefined = this.series.get(key) ?? misses.get(key);
        if (hit === undefined) {
          hit = {
            fast: key,
            metric: sample.name,
            family,
            labels: sample.labels,
            target: scrape.target,
            id: -1,
          };
          misses.set(key, hit);
        }
        found.push(hit);
      }
    if (misses.size > 0) await this.resolve([...misses.values()]);
    return found.map((f) => (typeof f === 'number' ? f : f.id));
  }

  /** Writes a batch's usage rows and inventory snapshots (what write() stores besides samples). */
  async writeSideTables(scrapes: readonly PendingScrape[]): Promise<void> {
    await this.writeUsage(scrapes);
    for (const s of scrapes) if (s.inventory !== undefined) await applyInventory(this.db, s.inventory);
  }

  /** Creates (or finds) the metrics and series of cache misses and fills the caches. */
  private async resolve(misses: readonly Miss[]): Promise<void> {
    const newMetrics = new Map<string, Miss>();
    for (const m of misses)
      if (!this.metrics.has(m.metric) && !newMetrics.has(m.metric)) newMetrics.set(m.metric, m);
    if (newMetrics.size > 0) await this.resolveMetrics([...newMetrics.values()]);
    // Chunks are pipelined: the next chunk's keys are hashed while the database looks up this one's.
    let next: Promise<ResolveChunk> | undefined;
    for (let i = 0; i < misses.length; i += RESOLVE_CHUNK) {
      const current = next ?? this.lookupChunk(misses.slice(i, i + RESOLVE_CHUNK));
      next =
        i + RESOLVE_CHUNK < misses.length
          ? this.lookupChunk(misses.slice(i + RESOLVE_CHUNK, i + 2 * RESOLVE_CHUNK))
          : undefined;
      const { byHash, hashes, labelSets, metricIds, ids } = await current;
      const missing: number[] = [];
      for (let k = 0; k < hashes.length; k++) if (ids[k] === undefined) missing.push(k);
      if (missing.length > 0) {
        const created = await this.db.query<{ id: string | number; h: string }>(
          `INSERT INTO hostscope.series (metric_id, labels, key_hash)
           SELECT m, l::jsonb, decode(h, 'hex') FROM unnest($1::int[], $2::text[], $3::text[]) AS u(m, l, h)
           ON CONFLICT (key_hash) DO NOTHING
           RETURNING id, encode(key_hash, 'hex') AS h`,
          [
            missing.map((k) => metricIds[k] as number),
            missing.map((k) => labelsJson(labelSets[k] as [string, string][])),
            missing.map((k) => hashes[k] as string),
          ],
        );
        const byHash = new Map(created.map((r) => [r.h, Number(r.id)]));
        // Conflicts: series that existed (not looked up first) or that another writer just created.
        const existed: number[] = [];
        for (const k of missing) {
          const id = byHash.get(hashes[k] as string);
          if (id === undefined) existed.push(k);
          else ids[k] = id;
        }
        if (existed.length > 0) {
          const found = await this.idsOfHashes(existed.map((k) => hashes[k] as string));
          existed.forEach((k, j) => (ids[k] = found[j]));
        }
        this.expectExisting = existed.length * 2 > missing.length;
      } else this.expectExisting = true;
      hashes.forEach((hash, k) => {
        const id = ids[k];
        if (id === undefined) throw new Error('a series was not created');
        for (const m of byHash.get(hash) as Miss[]) {
          m.id = id;
          this.series.set(m.fast, id);
        }
      });
    }
    // A lookup started for a chunk never awaited (an error above) must not reject unhandled.
    next?.catch(() => undefined);
  }

  /** Hashes the canonical keys of a chunk of misses and looks their series up (see resolve()). */
  private async lookupChunk(chunk: readonly Miss[]): Promise<ResolveChunk> {
    const byHash = new Map<string, Miss[]>();
    const hashes: string[] = [];
    const labelSets: [string, string][][] = [];
    const metricIds: number[] = [];
    for (const m of chunk) {
      const labels = storedLabels(m.labels, m.target);
      const hash = sha256Hex(canonicalKey(pgSafe(m.metric), labels));
      const list = byHash.get(hash);
      if (list !== undefined) {
        list.push(m);
        continue;
      }
      byHash.set(hash, [m]);
      hashes.push(hash);
      labelSets.push(labels);
      metricIds.push(this.metrics.get(m.metric) as number);
    }
    // After a restart the series exist: look them all up first, and resolve() creates the few missing.
    // New targets: resolve() inserts them all, and looks up only those that existed after all.
    const ids = this.expectExisting
      ? await this.idsOfHashes(hashes)
      : new Array<number | undefined>(hashes.length).fill(undefined);
    return { byHash, hashes, labelSets, metricIds, ids };
  }

  /**
   * Ids of the series with these key hashes (undefined where none), in one statement. The hashes go as one
   * bytea cut into 32-byte keys in SQL (bytea substring is O(1); text substring walks the characters),
   * and rows come back by position: no array literal of tens of thousands of elements to escape and
   * parse, and no hashes to encode and decode on the way back.
   */
  private async idsOfHashes(hashes: readonly string[]): Promise<(number | undefined)[]> {
    const rows = await this.db.query<{ i: number; id: string | number }>(
      `SELECT q.i, s.id FROM generate_series(0, $2::int - 1) AS q(i)
         JOIN hostscope.series s ON s.key_hash = substring($1::bytea FROM q.i * 32 + 1 FOR 32)`,
      [Buffer.from(hashes.join(''), 'hex'), hashes.length],
    );
    const ids = new Array<number | undefined>(hashes.length).fill(undefined);
    for (const r of rows) ids[r.i] = Number(r.id);
    return ids;
  }

  private async resolveMetrics(misses: readonly Miss[]): Promise<void> {
    const names = misses.map((m) => pgSafe(m.metric));
    const hashes = names.map((n) => sha256Hex(n));
    await this.db.query(
      `INSERT INTO hostscope.metrics (name, name_hash, family, type, is_counter, help, unit)
       SELECT n, decode(h, 'hex'), f, t, c, hp, u
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::text[], $7::text[])
              AS x(n, h, f, t, c, hp, u)
       ON CONFLICT (name_hash) DO NOTHING`,
      [
        names,
        hashes,
        misses.map((m) => pgSafe(m.family.name)),
        misses.map((m) => m.family.type),
        misses.map((m) => isCounterSample(m.family, m.metric)),
        misses.map((m) => pgSafe(m.family.help)),
        misses.map((m) => pgSafe(m.family.unit ?? '')),
      ],
    );
    const rows = await this.db.query<{ id: string | number; h: string }>(
      `SELECT id, encode(name_hash, 'hex') AS h FROM hostscope.metrics
        WHERE name_hash IN (SELECT decode(h, 'hex') FROM unnest($1::text[]) AS h)`,
      [hashes],
    );
    const byHash = new Map(rows.map((r) => [r.h, Number(r.id)]));
    misses.forEach((m, i) => {
      const id = byHash.get(hashes[i] as string);
      if (id === undefined) throw new Error(`metric ${m.metric} was not created`);
      this.metrics.set(m.metric, id);
    });
  }
}

export type { Queryable };
