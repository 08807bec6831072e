/**
 * One line per event on stderr, so stdout stays free for data (`--output json`).
 * LOG_FORMAT=json gives JSON lines for log shippers; LOG_LEVEL filters.
 */
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LEVELS;

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function parseLevel(value: string | undefined): LogLevel {
  return value !== undefined && value in LEVELS ? (value as LogLevel) : 'info';
}

export function createLogger(component: string): Logger {
  const threshold = LEVELS[parseLevel(process.env.LOG_LEVEL)];
  const json = process.env.LOG_FORMAT === 'json';
  const write = (level: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[level] < threshold) return;
    if (json) {
      process.stderr.write(
        `${JSON.stringify({ time: new Date().toISOString(), level, component, message, ...fields })}\n`,
      );
      return;
    }
    const extra = fields
      ? ' ' + Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')
      : '';
    process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} [${component}] ${message}${extra}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
