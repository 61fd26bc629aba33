export { connectRedis } from './connect-redis.js';
export type { ConnectRedisOptions, RedisHandle } from './connect-redis.js';
export { RedisUnavailableError } from './errors.js';
export { pingRedis } from './probe.js';
export type { RedisCheck } from './probe.js';
