import { promisify } from 'node:util';
import { constants, deflateRaw, inflateRaw } from 'node:zlib';
import type { InputFormat } from '../../expfmt/types';
import type { InventorySnapshot } from '../inventory';
import type { Target } from '../types';
import type { ContainerUsageRow, HostUsageRow } from '../usage';

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

/**
 * What is kept of one scrape while it waits on disk: the body as scraped (re-parsed on replay, since the
 * text is ~10x smaller than its parsed form and compresses well) plus what cannot be recomputed later:
 * usage rows and the inventory snapshot depend on the order of scrapes, so they are computed at scrape
 * time and stored as they are.
 */
export interface ScrapeRecord {
  readonly target: Target;
  readonly timeMs: number;
  readonly durationSeconds: number;
  /** Set when the scrape failed (stored as `up 0`); there is no body then. */
  readonly error?: string;
  readonly format?: InputFormat;
  readonly body?: Buffer | string;
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

const VERSION = 1;

/**
 * Payload: deflate-raw (level 1: the cheapest level already shrinks exposition text about 10x) of
 * [u32 length of the metadata JSON][metadata JSON][body UTF-8]. Compression runs on the libuv thread
 * pool, off the event loop. JSON turns a non-finite number into null; usage rows never hold one that the
 * database would accept anyway.
 */
export async function encodeRecord(record: ScrapeRecord): Promise<EncodedRecord> {
  const { body, ...meta } = record;
  const json = Buffer.from(JSON.stringify({ v: VERSION, ...meta }), 'utf8');
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(json.length, 0);
  const raw = Buffer.concat([
    head,
    json,
    typeof body === 'string' ? Buffer.from(body, 'utf8') : (body ?? Buffer.alloc(0)),
  ]);
  const payload = await deflate(raw, { level: 1, strategy: constants.Z_DEFAULT_STRATEGY });
  return { payload, samples: record.sampleCount, timeMs: record.timeMs };
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

/** Inverse of encodeRecord. Throws RecordFormatError for a payload this version cannot read. */
export async function decodeRecord(payload: Buffer): Promise<ScrapeRecord> {
  const raw = await inflate(payload);
  if (raw.length < 4) throw new RecordFormatError('record shorter than its header');
  const jsonLength = raw.readUInt32BE(0);
  if (4 + jsonLength > raw.length) throw new RecordFormatError('record metadata longer than the record');
  const meta: unknown = JSON.parse(raw.subarray(4, 4 + jsonLength).toString('utf8'));
  if (!isObject(meta) || meta.v !== VERSION)
    throw new RecordFormatError(`unknown record version ${isObject(meta) ? String(meta.v) : '?'}`);
  const target = meta.target;
  if (
    !isObject(target) ||
    typeof target.url !== 'string' ||
    typeof target.instance !== 'string' ||
    typeof target.job !== 'string' ||
    typeof meta.timeMs !== 'number' ||
    typeof meta.durationSeconds !== 'number' ||
    typeof meta.sampleCount !== 'number' ||
    !Array.isArray(meta.containerUsage)
  )
    throw new RecordFormatError('record metadata incomplete');
  const fields: Record<string, unknown> = { ...meta };
  delete fields.v;
  const record = fields as unknown as ScrapeRecord;
  return meta.error === undefined
    ? { ...record, body: raw.subarray(4 + jsonLength).toString('utf8') }
    : record;
}
