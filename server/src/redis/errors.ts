/**
 * WebGuard cannot get a working Redis. The message is meant for a person: it says what failed and
 * what to do, so the CLI prints it as it is instead of a stack trace.
 */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}
