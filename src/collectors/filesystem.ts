import { promises as fsp } from 'node:fs';
import { describe } from '../errors';
import { isNotFound, type HostFs } from '../host/host-fs';
import type { Logger } from '../log/logger';
import { MetricSet } from '../metrics/metric-set';
import { parseMounts, selectMounts } from './filesystem.parse';
import type { CollectorDefinition } from './types';

/** node_exporter 1.5's defaults (upstream; Debian's package patches the mount point one to add run|mnt|media). */
export const FILESYSTEM_DEFAULT_MOUNT_POINTS_EXCLUDE =
  '^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)';
export const FILESYSTEM_DEFAULT_FS_TYPES_EXCLUDE =
  '^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$';

/** The statfs(2) fields the collector uses (Node's StatFs). */
export interface StatFsResult {
  readonly bsize: number;
  readonly blocks: number;
  readonly bfree: number;
  readonly bavail: number;
  readonly files: number;
  readonly ffree: number;
}

export type StatFsFunction = (path: string) => Promise<StatFsResult>;

/**
 * Node's statfs returns numbers: block and inode counts stay exact below 2^53, and node_exporter itself
 * multiplies them as float64, so bigint would buy nothing.
 */
const realStatfs: StatFsFunction = (path) => fsp.statfs(path);

type StatOutcome =
  | { readonly kind: 'ok'; readonly stats: StatFsResult }
  | { readonly kind: 'error' }
  | { readonly kind: 'stuck' };

const HELP = {
  size: 'Filesystem size in bytes.',
  free: 'Filesystem free space in bytes.',
  avail: 'Filesystem space available to non-root users in bytes.',
  files: 'Filesystem total file nodes.',
  filesFree: 'Filesystem total free file nodes.',
  readonly: 'Filesystem read-only status.',
  deviceError: 'Whether an error occurred while getting statistics for the given device.',
} as const;

/** The mount table of the host's init (the host's view from a container), or ours when hidepid hides it. */
async function readMounts(fs: HostFs, logger: Logger): Promise<string> {
  try {
    return await fs.readText(fs.proc('1', 'mounts'));
  } catch (err) {
    if (!isNotFound(err)) throw err;
    logger.debug({ err: describe(err) }, 'Reading root mounts failed, falling back to system mounts');
    return fs.readText(fs.proc('mounts'));
  }
}

/**
 * Runs statfs with a timeout, never more than one call per mount point at a time. A call that does not
 * return within the mount timeout (a hung NFS server, a dead FUSE daemon) marks the mount point as stuck: it
 * is reported as a device error, without a new call, until the pending call finally returns. Each call holds
 * one of libuv's four pool threads, so piling calls up on a hung mount would stall all file I/O of the
 * process. node_exporter 1.5 keeps the same "stuck mounts" set, keyed by mount point.
 */
/** Leaves the collector time to report the stuck mount before the runner's own timeout. */
const DEADLINE_MARGIN_MS = 250;

class MountStatter {
  private readonly inflight = new Map<string, Promise<StatOutcome>>();
  private readonly stuck = new Set<string>();

  constructor(
    private readonly statfs: StatFsFunction,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  /** `deadlineMs`: the runner's deadline for this scrape; a stuck mount is declared before it passes. */
  async stat(mountPoint: string, path: string, deadlineMs = Infinity): Promise<StatOutcome> {
    if (this.stuck.has(mountPoint)) {
      this.logger.debug({ mountpoint: mountPoint }, 'Mount point is in an unresponsive state');
      return { kind: 'stuck' };
    }
    let call = this.inflight.get(mountPoint);
    if (call === undefined) {
      call = this.start(mountPoint, path);
      this.inflight.set(mountPoint, call);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      const wait = Math.max(0, Math.min(this.timeoutMs, deadlineMs - Date.now() - DEADLINE_MARGIN_MS));
      timer = setTimeout(() => resolve('timeout'), wait);
    });
    const first = await Promise.race([call, timeout]);
    clearTimeout(timer);
    if (first !== 'timeout') return first;
    if (!this.stuck.has(mountPoint)) {
      this.stuck.add(mountPoint);
      this.logger.debug(
        { mountpoint: mountPoint },
        'Mount point timed out, it is being labeled as stuck and will not be monitored',
      );
    }
    return { kind: 'stuck' };
  }

  private start(mountPoint: string, path: string): Promise<StatOutcome> {
    return this.statfs(path)
      .then(
        (stats): StatOutcome => ({ kind: 'ok', stats }),
        (err: unknown): StatOutcome => {
          this.logger.debug({ rootfs: path, err: describe(err) }, 'Error on statfs() system call');
          return { kind: 'error' };
        },
      )
      .finally(() => {
        this.inflight.delete(mountPoint);
        if (this.stuck.delete(mountPoint)) {
          this.logger.debug({ mountpoint: mountPoint }, 'Mount point has recovered, monitoring will resume');
        }
      });
  }
}

/**
 * Builds the filesystem collector. `statfs` is injectable so tests can simulate a hung mount; the default is
 * Node's fs.promises.statfs.
 */
export function createFilesystemCollector(statfs: StatFsFunction = realStatfs): CollectorDefinition {
  return {
    name: 'filesystem',
    defaultEnabled: true,
    help: 'Exposes filesystem statistics, such as disk space used, of mounted filesystems.',
    options: [
      {
        name: 'mount-points-exclude',
        kind: 'regex',
        help: 'Regexp of mount points to exclude for filesystem collector.',
        default: FILESYSTEM_DEFAULT_MOUNT_POINTS_EXCLUDE,
      },
      {
        name: 'fs-types-exclude',
        kind: 'regex',
        help: 'Regexp of filesystem types to exclude for filesystem collector.',
        default: FILESYSTEM_DEFAULT_FS_TYPES_EXCLUDE,
      },
      {
        name: 'mount-timeout',
        kind: 'duration',
        help: 'How long to wait for a mount to respond before marking it as stale.',
        default: '5s',
      },
    ],
    create: ({ fs, logger, options }) => {
      // Unanchored, like node_exporter's Go regexps (the defaults anchor themselves).
      const mountPointsExclude = options.regex('mount-points-exclude');
      const fsTypesExclude = options.regex('fs-types-exclude');
      const statter = new MountStatter(statfs, options.duration('mount-timeout'), logger);

      return {
        async update({ deadlineMs }) {
          const mounts = selectMounts(
            parseMounts(await readMounts(fs, logger)).map((m) => ({
              ...m,
              mountPoint: fs.stripRoot(m.mountPoint),
            })),
            mountPointsExclude,
            fsTypesExclude,
          );
          // Mounts stacked on one path share one statfs call (statfs sees the top one anyway).
          const outcomes = await Promise.all(
            mounts.map((m) => statter.stat(m.mountPoint, fs.root(m.mountPoint), deadlineMs)),
          );

          const metrics = new MetricSet();
          mounts.forEach((mount, i) => {
            const outcome = outcomes[i];
            const labels = { device: mount.device, mountpoint: mount.mountPoint, fstype: mount.fsType };
            metrics.gauge(
              'node_filesystem_device_error',
              HELP.deviceError,
              outcome?.kind === 'ok' ? 0 : 1,
              labels,
            );
            // Like node_exporter 1.5, a mount in error has no other series (not even readonly).
            if (outcome?.kind !== 'ok') return;
            const s = outcome.stats;
            metrics
              .gauge('node_filesystem_size_bytes', HELP.size, s.blocks * s.bsize, labels)
              .gauge('node_filesystem_free_bytes', HELP.free, s.bfree * s.bsize, labels)
              .gauge('node_filesystem_avail_bytes', HELP.avail, s.bavail * s.bsize, labels)
              .gauge('node_filesystem_files', HELP.files, s.files, labels)
              .gauge('node_filesystem_files_free', HELP.filesFree, s.ffree, labels)
              .gauge('node_filesystem_readonly', HELP.readonly, mount.readOnly ? 1 : 0, labels);
          });
          return metrics.families();
        },
      };
    },
  };
}

export const filesystemCollector: CollectorDefinition = createFilesystemCollector();
