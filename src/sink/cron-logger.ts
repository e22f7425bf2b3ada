import type { Logger as CronLogger } from 'node-cron';
import type { Logger } from '../log/logger';

/**
 * node-cron's logger interface onto pino, so that nothing node-cron says reaches the console in its own
 * coloured format. Given per task (the `logger` option) rather than through its global setLogger().
 * With the sink's callbacks returning at once, what remains is "missed execution" (the event loop was
 * blocked past a tick) and its own failures.
 */
export function cronLogger(logger: Logger): CronLogger {
  const log = logger.child({ component: 'node-cron' });
  const err = (message: string | Error, cause?: Error): Record<string, unknown> =>
    message instanceof Error ? { err: message } : cause === undefined ? {} : { err: cause };
  const text = (message: string | Error): string => (message instanceof Error ? message.message : message);
  return {
    info: (message) => log.debug(message),
    warn: (message) => log.warn(message),
    error: (message, cause) => log.error(err(message, cause), text(message)),
    debug: (message, cause) => log.debug(err(message, cause), text(message)),
  };
}
