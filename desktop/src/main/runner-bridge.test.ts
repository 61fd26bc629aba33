import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LIVE_EVENTS_VERSION, type LocalRunEvent } from '@webguard/shared';
import { inlineArtifact } from './runner-bridge.js';

const dir = mkdtempSync(join(tmpdir(), 'wg-bridge-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const artifactEvent = (url: string, size: number): LocalRunEvent => ({
  run_id: 'r1',
  event: {
    v: LIVE_EVENTS_VERSION,
    seq: 4,
    time: new Date().toISOString(),
    execution_id: 0,
    type: 'artifact.added',
    case_id: 0,
    case_name: 'login',
    artifact: {
      id: null,
      kind: 'screenshot',
      name: 'failure.png',
      content_type: 'image/png',
      size_bytes: size,
      url,
    },
  },
});

describe('inlineArtifact', () => {
  it('turns a local screenshot into a data URL the sandboxed renderer can show', async () => {
    const file = join(dir, 'shot.png');
    writeFileSync(file, Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    const inlined = await inlineArtifact(artifactEvent(pathToFileURL(file).href, 4));
    expect(inlined.event).toMatchObject({ artifact: { url: 'data:image/png;base64,iVBORw==' } });
  });

  it('leaves files that are gone or too large as they are', async () => {
    const missing = artifactEvent(pathToFileURL(join(dir, 'missing.png')).href, 10);
    await expect(inlineArtifact(missing)).resolves.toBe(missing);
    const huge = artifactEvent(pathToFileURL(join(dir, 'huge.png')).href, 100 * 1024 * 1024);
    await expect(inlineArtifact(huge)).resolves.toBe(huge);
  });
});
