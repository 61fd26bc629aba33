import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('uses the embedded defaults on an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8000,
      databaseUrl: undefined,
      redisUrl: 'redis://127.0.0.1:6379',
      home: join(homedir(), '.webguard'),
      queuePrefix: 'webguard',
      skillPaths: [],
      logLevel: 'info',
    });
    expect(config.concurrency.browser).toBe(2);
    expect(config.concurrency.api).toBe(10);
  });

  it('reads every value it is given', () => {
    const config = loadConfig({
      HOST: '0.0.0.0',
      PORT: '9000',
      DATABASE_URL: 'postgres://root@127.0.0.1:5432/test',
      REDIS_URL: 'redis://127.0.0.1:6380',
      WEBGUARD_HOME: '/var/lib/webguard',
      WEBGUARD_SKILLS_PATHS: '/opt/skills:/srv/more-skills',
      WEBGUARD_CONCURRENCY_API: '25',
    });
    expect(config.port).toBe(9000);
    expect(config.databaseUrl).toBe('postgres://root@127.0.0.1:5432/test');
    expect(config.home).toBe('/var/lib/webguard');
    expect(config.skillPaths).toEqual(['/opt/skills', '/srv/more-skills']);
    expect(config.concurrency.api).toBe(25);
  });

  it('treats an empty DATABASE_URL as unset', () => {
    expect(loadConfig({ DATABASE_URL: '' }).databaseUrl).toBeUndefined();
  });

  it('names every bad value on its own line', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        REDIS_URL: 'http://x',
        WEBGUARD_HOME: 'relative/dir',
        LOG_LEVEL: 'loud',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems).toContain('PORT: must be a number (got "eighty")');
    expect(problems.find((line) => line.startsWith('REDIS_URL:'))).toContain(
      'redis://127.0.0.1:6379',
    );
    expect(problems.find((line) => line.startsWith('WEBGUARD_HOME:'))).toContain('absolute path');
    expect(problems.find((line) => line.startsWith('LOG_LEVEL:'))).toContain('"loud"');
    expect((error as Error).message.split('\n')).toHaveLength(5);
  });

  it('rejects a port out of range', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT: must be between 1 and 65535/);
  });
});
