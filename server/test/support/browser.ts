// Helpers for tests that drive the real Chromium: fixture pages, a sink that keeps artifacts in
// memory, and the pids of the browsers a test process launched.
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ArtifactFile, ArtifactSink } from '../../src/engine/index.js';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A route serving a small HTML page with the given title and body. */
export const html =
  (body: string, title = 'Fixture') =>
  (_request: IncomingMessage, response: ServerResponse): void => {
    response
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(`<!doctype html><html><head><title>${title}</title></head><body>${body}</body></html>`);
  };

export interface KeptFile {
  kind: ArtifactFile['kind'];
  name: string;
  contentType: string;
  body: Buffer;
}

/** Keeps artifacts in memory, as the worker's store would keep them on disk. */
export class MemorySink implements ArtifactSink {
  readonly files: KeptFile[] = [];

  async add(file: ArtifactFile): Promise<void> {
    const body =
      'body' in file.source ? Buffer.from(file.source.body) : await readFile(file.source.path);
    this.files.push({ kind: file.kind, name: file.name, contentType: file.contentType, body });
  }

  named(name: string): KeptFile | undefined {
    return this.files.find((file) => file.name === name);
  }
}

/** Pids of the Chromium browsers this process launched (Playwright talks to them over a pipe). */
export function launchedChromiumPids(parent = process.pid): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/PID/stat is the parent pid; the name before it may contain spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parentPid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (parentPid === parent && cmdline.includes('--remote-debugging-pipe')) {
        pids.push(Number(entry));
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
