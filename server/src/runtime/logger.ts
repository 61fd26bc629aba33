import { pino, type Logger } from 'pino';
import type { Config } from '../config.js';

/** Structured JSON logs on stdout; every line carries the process role. */
export function createLogger(config: Pick<Config, 'logLevel'>, role: string): Logger {
  return pino({ level: config.logLevel, base: { role, pid: process.pid } });
}
