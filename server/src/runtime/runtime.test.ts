import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { startTestRuntime } from '../../test/support/test-runtime.js';

/** Whether this process has loaded Playwright (a CommonJS package, so it shows in the cache). */
function playwrightLoaded(): boolean {
  const { cache } = createRequire(import.meta.url);
  return Object.keys(cache).some((file) => file.includes('playwright-core'));
}

describe('runtime', () => {
  it('loads Playwright only in a worker that serves browser cases', async () => {
    // Each test file runs in a process of its own, so nothing else here has loaded it.
    expect(playwrightLoaded()).toBe(false);
    const api = await startTestRuntime({}, { workers: ['api'], scheduler: false });
    try {
      expect(playwrightLoaded()).toBe(false);
    } finally {
      await api.stop();
    }
    const browser = await startTestRuntime({}, { workers: ['browser'], scheduler: false });
    try {
      expect(playwrightLoaded()).toBe(true);
    } finally {
      await browser.stop();
    }
  });
});
