import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium } from 'playwright-core';

/** Commands Chromium is installed as by Linux distributions and by Google. */
const CHROMIUM_COMMANDS = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];
/** Searched after the PATH: services often start with a bare one. */
const STANDARD_DIRS = ['/usr/local/bin', '/usr/bin', '/snap/bin', '/opt/google/chrome'];

export interface ChromiumLocation {
  path: string;
  /** Where it was found: set in config, Playwright's own download, or the system's PATH. */
  source: 'config' | 'playwright' | 'system';
}

/** No usable Chromium (or a configured path that is not one); the message says how to fix it. */
export class BrowserUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrowserUnavailableError';
  }
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The first executable called `command` in the folders of `searchPath` (PATH syntax). */
function findOnPath(command: string, searchPath: string): string | undefined {
  return searchPath
    .split(delimiter)
    .filter((dir) => dir.length > 0)
    .map((dir) => join(dir, command))
    .find(isExecutableFile);
}

/**
 * Picks the Chromium to drive: the configured one; else Playwright's own build when one was
 * downloaded (its protocol matches playwright-core exactly); else a system Chromium or Chrome.
 */
export function findChromium(options: {
  override?: string;
  /** PATH-style folders to search first. */
  searchPath: string;
  /** Searched after `searchPath`; default the usual install folders. */
  fallbackDirs?: readonly string[];
}): ChromiumLocation {
  if (options.override !== undefined) {
    if (!isExecutableFile(options.override)) {
      throw new BrowserUnavailableError(
        `WEBGUARD_CHROMIUM_PATH is ${options.override}, which is not an executable file`,
      );
    }
    return { path: options.override, source: 'config' };
  }
  const bundled = chromium.executablePath();
  if (isExecutableFile(bundled)) return { path: bundled, source: 'playwright' };
  const fallbackDirs = options.fallbackDirs ?? STANDARD_DIRS;
  const searchPath = [options.searchPath, ...fallbackDirs].join(delimiter);
  for (const command of CHROMIUM_COMMANDS) {
    const path = findOnPath(command, searchPath);
    if (path) return { path, source: 'system' };
  }
  throw new BrowserUnavailableError(
    `no Chromium found (looked for Playwright's download at ${bundled} and for ${CHROMIUM_COMMANDS.join(', ')} on the PATH and in ${fallbackDirs.join(', ')}): ` +
      'install one (Debian: apt-get install chromium) or set WEBGUARD_CHROMIUM_PATH',
  );
}
