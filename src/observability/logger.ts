/**
 * Structured JSON logs with pino (fast, well kept, redaction built in). Every logger redacts the
 * fields that can carry sig or key material, whatever the caller passes.
 */
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import pino, { type Logger } from 'pino';
import { LOG_REDACT, redactSecrets, redactString } from '../codec/redact';

export type { Logger };

export function createLogger(
  level: string = process.env.SESSION_KEEPER_LOG_LEVEL ?? 'info',
  destination?: pino.DestinationStream,
): Logger {
  return pino(
    {
      level,
      base: { service: 'lit-session-keeper' },
      redact: { paths: [...LOG_REDACT.paths], censor: LOG_REDACT.censor },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        // Field paths cover structured fields; free text (an error's message and stack, a
        // network's answer quoted in it) can carry a pasted key too, so every logged object
        // goes through the redactor as well.
        log: (object) =>
          redactSecrets(
            object.err instanceof Error ? { ...object, err: pino.stdSerializers.err(object.err) } : object,
          ),
      },
      // `formatters.log` has serialised and redacted `err` already (it runs first).
      serializers: { err: (err: unknown) => err },
      hooks: {
        logMethod(args, method) {
          const redacted = args.map((a) => (typeof a === 'string' ? redactString(a) : a));
          return method.apply(this, redacted as Parameters<typeof method>);
        },
      },
    },
    destination ?? pino.destination({ dest: 2, sync: false }),
  );
}

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Routes the Temporal SDK's own logs (worker, workflow `log`, activity `log`) into pino. */
export function temporalLoggerFor(logger: Logger): TemporalLogger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) =>
    logger[LEVELS[level]](meta ?? {}, message);
  return {
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  };
}
