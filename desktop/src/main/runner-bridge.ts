import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { LocalRunEvent, LocalRunFrame, LocalRunState } from '@webguard/shared';
import type { LocalRunnerHost } from '@webguard/server/dist/local-runner/index.js';
import { checkedPush } from './ipc.js';

/** Screenshots up to this size go to the renderer inline; larger files stay a file link. */
const INLINE_LIMIT = 8 * 1024 * 1024;

/**
 * The sandboxed renderer cannot open local files, so a local run's screenshots and videos are
 * handed over as data URLs.
 */
export async function inlineArtifact(payload: LocalRunEvent): Promise<LocalRunEvent> {
  const { event } = payload;
  if (event.type !== 'artifact.added' || !event.artifact.url.startsWith('file:')) return payload;
  if (event.artifact.size_bytes > INLINE_LIMIT) return payload;
  try {
    const body = await readFile(fileURLToPath(event.artifact.url));
    const url = `data:${event.artifact.content_type};base64,${body.toString('base64')}`;
    return { ...payload, event: { ...event, artifact: { ...event.artifact, url } } };
  } catch {
    return payload;
  }
}

export interface PushTarget {
  send(channel: string, payload: unknown): void;
  isDestroyed(): boolean;
}

/** Forwards a local runner host's events to a window, in order, checked against the contract. */
export function bridgeRunner(host: LocalRunnerHost, target: () => PushTarget | null): () => void {
  // Inlining reads files, so events queue behind each other to keep their order.
  let queue = Promise.resolve();
  const onEvent = (payload: LocalRunEvent) => {
    queue = queue.then(async () => {
      const window = target();
      if (!window || window.isDestroyed()) return;
      window.send('runner:event', checkedPush('runner:event', await inlineArtifact(payload)));
    });
  };
  const onState = (payload: LocalRunState) => {
    queue = queue.then(() => {
      const window = target();
      if (window && !window.isDestroyed())
        window.send('runner:state', checkedPush('runner:state', payload));
    });
  };
  // Frames skip the queue: the newest one matters, not the order against events.
  const onFrame = (payload: LocalRunFrame) => {
    const window = target();
    if (window && !window.isDestroyed())
      window.send('runner:frame', checkedPush('runner:frame', payload));
  };
  host.on('event', onEvent);
  host.on('state', onState);
  host.on('frame', onFrame);
  return () => {
    host.off('event', onEvent);
    host.off('state', onState);
    host.off('frame', onFrame);
  };
}
