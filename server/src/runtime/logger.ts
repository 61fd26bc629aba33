import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from '../config.js';
import { traceFields } from '../telemetry/index.js';

/** Wherever they appear in a logged object, these fields are written as "[redacted]". */
const SECRET_PATHS = [
  'password',
  'token',
  'secret',
  'authorization',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
];

/**
 * Structured JSON logs on stdout; every line carries the process role, and lines written while
 * a traced case or request runs carry its `trace_id` and `span_id`.
 */
export function createLogger(
  config: Pick<Config, 'logLevel'>,
  role: string,
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { role, pid: process.pid },
      mixin: traceFields,
      redact: { paths: SECRET_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}
