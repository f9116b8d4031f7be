/** The logging the devnet needs; a pino logger fits, and the default is silent. */
export interface DevnetLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => {};

export const SILENT_LOGGER: DevnetLogger = { debug: noop, info: noop, warn: noop, error: noop };
