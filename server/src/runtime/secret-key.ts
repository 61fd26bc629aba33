import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';

/**
 * The key that seals environment secrets: WEBGUARD_SECRET_KEY when set (required when several
 * machines share a database), else a key generated once into the data folder, readable by its
 * owner only, so a single-machine install works with no setup.
 */
export function loadSecretKey(config: Pick<Config, 'secretKey' | 'home'>): Buffer {
  if (config.secretKey) return config.secretKey;
  const file = join(config.home, 'secret.key');
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(config.home, { recursive: true });
  const key = randomBytes(32);
  try {
    writeFileSync(file, key.toString('hex'), { mode: 0o600, flag: 'wx' });
    return key;
  } catch (error) {
    // Another process on this machine created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
    throw error;
  }
}
