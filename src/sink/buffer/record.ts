import { promisify } from 'node:util';
import { constants, deflateRaw, inflateRaw } from 'node:zlib';
import type { InputFormat, ParsedFamily, ParsedSample } from '../../expfmt/types';
import type { MetricType } from '../../metrics/types';
import type { InventorySnapshot } from '../inventory';
import type { Target } from '../types';
import type { ContainerUsageRow, HostUsageRow } from '../usage';

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

/**
 * What is kept of one scrape while it waits on disk: the body as scraped (re-parsed on replay, since the
 * text is ~10x smaller than its parsed form and compresses well) plus what cannot be recomputed later:
 * usage rows and the inventory snapshot depend on the order of scrapes, so they are computed at scrape
 * time and stored as they are. A scrape that waited in memory has given its body back (see BodyPool) and
 * goes to disk as its parsed families instead.
 */
export interface ScrapeRecord {
  readonly target: Target;
  readonly timeMs: number;
  readonly durationSeconds: number;
  /** Set when the scrape failed (stored as `up 0`); there is no body then. */
  readonly error?: string;
  readonly format?: InputFormat;
  readonly body?: Buffer | string;
  /** The parsed families (synthetic ones excluded), when there is no body. */
  readonly families?: readonly ParsedFamily[];
  /** Samples the scrape stores, the synthetic ones included: the buffer's accounting unit. */
  readonly sampleCount: number;
  readonly hostUsage?: HostUsageRow;
  readonly containerUsage: readonly ContainerUsageRow[];
  readonly inventory?: InventorySnapshot;
}

/** A record as stored: the compressed payload, with what the frame header repeats for accounting. */
export interface EncodedRecord {
  readonly payload: Buffer;
  readonly samples: number;
  readonly timeMs: number;
}

const VERSION = 2;
/** Fixed header: [u8 version][u32 metadata bytes, deflated][u32 body bytes, raw]. */
const HEADER_BYTES = 9;

/**
 * Payload: a 9-byte header, then the metadata JSON and the body, each deflate-raw on its own (level 1:
 * the cheapest level already shrinks exposition text about 10x). Separate streams spare a copy of the
 * body (tens of MB for a big target) into one input, and knowing the body's size lets replay inflate
 * it into a single buffer. Compression runs on the libuv thread pool, off the event loop. JSON turns a
 * non-finite number into null; usage rows never hold one that the database would accept anyway.
 */
export async function encodeRecord(record: ScrapeRecord): Promise<EncodedRecord> {
  const { body, families, ...rest } = record;
  const asFamilies = body === undefined && families !== undefined;
  const meta = asFamilies ? { ...rest, bodyKind: 'families' } : rest;
  const bodyBytes = asFamilies
    ? Buffer.from(JSON.stringify(families.map(familyJson)), 'utf8')
    : typeof body === 'string'
      ? Buffer.from(body, 'utf8')
      : (body ?? Buffer.alloc(0));
  const [json, packed] = await Promise.all([
    deflate(Buffer.from(JSON.stringify({ v: VERSION, ...meta }), 'utf8'), { level: 1 }),
    bodyBytes.length === 0
      ? Buffer.alloc(0)
      : deflate(bodyBytes, { level: 1, strategy: constants.Z_DEFAULT_STRATEGY, chunkSize: 1 << 20 }),
  ]);
  const head = Buffer.allocUnsafe(HEADER_BYTES);
  head.writeUInt8(VERSION, 0);
  head.writeUInt32BE(json.length, 1);
  head.writeUInt32BE(bodyBytes.length, 5);
  return {
    payload: Buffer.concat([head, json, packed]),
    samples: record.sampleCount,
    timeMs: record.timeMs,
  };
}

export class RecordFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordFormatError';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Inverse of encodeRecord; the body comes back as bytes (the parser reads them as they are). Throws
 * RecordFormatError for a payload this version cannot read.
 */
export async function decodeRecord(payload: Buffer): Promise<ScrapeRecord> {
  if (payload.length < HEADER_BYTES) throw new RecordFormatError('record shorter than its header');
  const version = payload.readUInt8(0);
  if (version !== VERSION) throw new RecordFormatError(`unknown record version ${version}`);
  const jsonEnd = HEADER_BYTES + payload.readUInt32BE(1);
  const bodyBytes = payload.readUInt32BE(5);
  if (jsonEnd > payload.length) throw new RecordFormatError('record metadata longer than the record');
  let meta: unknown;
  let body: Buffer;
  try {
    [meta, body] = await Promise.all([
      inflate(payload.subarray(HEADER_BYTES, jsonEnd)).then((b) => JSON.parse(b.toString('utf8')) as unknown),
      bodyBytes === 0
        ? Buffer.alloc(0)
        : // One output chunk of the known size: no chunks to concatenate afterwards.
          inflate(payload.subarray(jsonEnd), { chunkSize: Math.max(bodyBytes, 64) }),
    ]);
  } catch (err) {
    throw new RecordFormatError(
      `record does not decode: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (body.length !== bodyBytes) throw new RecordFormatError('record body shorter than its header says');
  if (!isObject(meta) || meta.v !== VERSION)
    throw new RecordFormatError(`unknown record version ${isObject(meta) ? String(meta.v) : '?'}`);
  const target = meta.target;
  if (
    !isObject(target) ||
    typeof target.url !== 'string' ||
    typeof target.instance !== 'string' ||
    typeof target.job !== 'string' ||
    (target.labels !== undefined &&
      (!isObject(target.labels) || Object.values(target.labels).some((v) => typeof v !== 'string'))) ||
    typeof meta.timeMs !== 'number' ||
    typeof meta.durationSeconds !== 'number' ||
    typeof meta.sampleCount !== 'number' ||
    !Array.isArray(meta.containerUsage)
  )
    throw new RecordFormatError('record metadata incomplete');
  const fields: Record<string, unknown> = { ...meta };
  delete fields.v;
  delete fields.bodyKind;
  const record = fields as unknown as ScrapeRecord;
  if (meta.error !== undefined) return record;
  if (meta.bodyKind !== 'families') return { ...record, body };
  const families: unknown = JSON.parse(body.toString('utf8'));
  if (!Array.isArray(families)) throw new RecordFormatError('record families are not a list');
  return { ...record, families: families.map(familyOf) };
}

/** A family as JSON: values that JSON cannot carry (NaN, +-Infinity, -0) as strings. */
function familyJson(f: ParsedFamily): unknown {
  return {
    n: f.name,
    t: f.type,
    h: f.help,
    ...(f.unit === undefined ? {} : { u: f.unit }),
    s: f.samples.map((x) => {
      const v =
        Number.isFinite(x.value) && !Object.is(x.value, -0)
          ? x.value
          : Object.is(x.value, -0)
            ? '-0'
            : String(x.value);
      return x.timestampMs === undefined ? [x.name, x.labels, v] : [x.name, x.labels, v, x.timestampMs];
    }),
  };
}

function familyOf(j: unknown): ParsedFamily {
  if (
    !isObject(j) ||
    typeof j.n !== 'string' ||
    typeof j.t !== 'string' ||
    typeof j.h !== 'string' ||
    !Array.isArray(j.s)
  )
    throw new RecordFormatError('record family malformed');
  const samples = j.s.map((x: unknown): ParsedSample => {
    if (
      !Array.isArray(x) ||
      typeof x[0] !== 'string' ||
      !isObject(x[1]) ||
      (typeof x[2] !== 'number' && typeof x[2] !== 'string')
    )
      throw new RecordFormatError('record sample malformed');
    const value = typeof x[2] === 'number' ? x[2] : Number(x[2]);
    return typeof x[3] === 'number'
      ? { name: x[0], labels: x[1] as Record<string, string>, value, timestampMs: x[3] }
      : { name: x[0], labels: x[1] as Record<string, string>, value };
  });
  return {
    name: j.n,
    type: j.t as MetricType,
    help: j.h,
    ...(typeof j.u === 'string' ? { unit: j.u } : {}),
    samples,
  };
}
