import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findDeepLink, parseDeepLink } from './deep-link.js';
import { DEFAULT_WINDOW, loadWindowState, saveWindowState } from './window-state.js';

describe('deep links', () => {
  it('opens runs by id and nothing else', () => {
    expect(parseDeepLink('webguard://run/123')).toEqual({ execution_id: 123 });
    expect(parseDeepLink('webguard://run/123/')).toEqual({ execution_id: 123 });
    expect(parseDeepLink('webguard://run/0')).toBeNull();
    expect(parseDeepLink('webguard://run/abc')).toBeNull();
    expect(parseDeepLink('webguard://suite/1')).toBeNull();
    expect(parseDeepLink('https://run/1')).toBeNull();
    expect(parseDeepLink('webguard://run/1/extra')).toBeNull();
  });

  it('finds a link among the arguments a second instance receives', () => {
    expect(findDeepLink(['/usr/bin/webguard', '--flag', 'webguard://run/9'])).toEqual({
      execution_id: 9,
    });
    expect(findDeepLink(['/usr/bin/webguard'])).toBeNull();
  });
});

describe('window state', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wg-window-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const display = [{ x: 0, y: 0, width: 1920, height: 1080 }];

  it('comes back as it was saved', async () => {
    const file = join(dir, 'state.json');
    await saveWindowState(file, { x: 100, y: 80, width: 1200, height: 800, maximized: true });
    await expect(loadWindowState(file, display)).resolves.toEqual({
      x: 100,
      y: 80,
      width: 1200,
      height: 800,
      maximized: true,
    });
  });

  it('drops a place on a display that is gone, keeping the size', async () => {
    const file = join(dir, 'gone.json');
    await saveWindowState(file, { x: 3000, y: 80, width: 1200, height: 800, maximized: false });
    await expect(loadWindowState(file, display)).resolves.toEqual({
      width: 1200,
      height: 800,
      maximized: false,
    });
  });

  it('falls back to the default for a missing or broken file', async () => {
    await expect(loadWindowState(join(dir, 'missing.json'), display)).resolves.toEqual(
      DEFAULT_WINDOW,
    );
    writeFileSync(join(dir, 'bad.json'), '{"width": 5}');
    await expect(loadWindowState(join(dir, 'bad.json'), display)).resolves.toEqual(DEFAULT_WINDOW);
  });
});
