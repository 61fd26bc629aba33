import { describe, expect, it } from 'vitest';
import {
  IpcRejected,
  checkedPush,
  registerIpcHandlers,
  trustedSender,
  type IpcEventLike,
  type IpcHandlers,
  type IpcMainLike,
} from './ipc.js';

/** ipcMain's registration surface, keeping the handlers so a test can call them like Electron does. */
class HandlerTable implements IpcMainLike {
  readonly handlers = new Map<string, (event: IpcEventLike, ...args: unknown[]) => unknown>();
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => unknown) {
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string) {
    this.handlers.delete(channel);
  }
  call(channel: string, url: string, request?: unknown) {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`no handler for ${channel}`);
    return Promise.resolve(handler({ senderFrame: { url } }, request));
  }
}

const APP = 'file:///opt/WebGuard/resources/app/out/renderer/index.html';
const started: unknown[] = [];
const handlers: IpcHandlers = {
  'app:info': () => ({ version: '1.0.0', platform: 'linux', token_storage: 'os' }),
  'credential:load': () => null,
  'credential:save': () => ({ storage: 'os', warning: null }),
  'credential:clear': () => null,
  'runner:pick-folder': () => ({ folder: null }),
  // Deliberately breaks the contract, to show main checks its own answers too.
  'runner:inspect': () => ({ ok: true }) as never,
  'runner:start': (request) => {
    started.push(request);
    return { run_id: 'run-1' };
  },
  'runner:stop': () => ({ stopped: true }),
};

describe('IPC', () => {
  const table = new HandlerTable();
  const unregister = registerIpcHandlers(table, handlers, trustedSender(APP));

  it('registers one handler per channel of the contract, and removes them', () => {
    expect([...table.handlers.keys()].sort()).toEqual([
      'app:info',
      'credential:clear',
      'credential:load',
      'credential:save',
      'runner:inspect',
      'runner:pick-folder',
      'runner:start',
      'runner:stop',
    ]);
  });

  it('passes a valid request, with defaults filled in, to its handler', async () => {
    await expect(
      table.call('runner:start', `${APP}#/local`, { folder: '/skills/login' }),
    ).resolves.toEqual({ run_id: 'run-1' });
    expect(started.at(-1)).toEqual({
      folder: '/skills/login',
      params: {},
      headed: false,
      watch: false,
      timeout_ms: 300_000,
    });
  });

  it('refuses a request that does not match its schema, saying which field', async () => {
    await expect(table.call('runner:start', APP, { folder: '', params: [] })).rejects.toThrow(
      /runner:start: invalid request \(folder: choose a skill folder\)/,
    );
    await expect(
      table.call('credential:save', APP, {
        server_url: 'javascript:alert(1)',
        kind: 'token',
        token: 'x',
        refresh_token: null,
      }),
    ).rejects.toThrow(IpcRejected);
    await expect(
      table.call('runner:start', APP, { folder: '/x', unexpected: true }),
    ).rejects.toThrow(/invalid request/);
  });

  it('refuses messages from pages that are not the app', async () => {
    await expect(table.call('app:info', 'https://evil.example/')).rejects.toThrow(
      /refused a message from https:\/\/evil.example/,
    );
    await expect(table.call('app:info', 'file:///tmp/other.html')).rejects.toThrow(IpcRejected);
    await expect(table.call('app:info', '')).rejects.toThrow(/unknown frame/);
    await expect(table.call('app:info', APP)).resolves.toMatchObject({ version: '1.0.0' });
  });

  it('refuses to answer with something the contract does not allow', async () => {
    await expect(table.call('runner:inspect', APP, { folder: '/x' })).rejects.toThrow();
  });

  it('checks pushes before they go to the renderer', () => {
    expect(checkedPush('app:open-run', { execution_id: 7 })).toEqual({ execution_id: 7 });
    expect(() => checkedPush('app:open-run', { execution_id: -1 })).toThrow();
    expect(() => checkedPush('app:navigate', { path: 'https://evil.example' })).toThrow();
  });

  it('trusts the dev server by origin', () => {
    const dev = trustedSender('http://localhost:5173/');
    expect(dev('http://localhost:5173/#/runs')).toBe(true);
    expect(dev('http://localhost:5174/')).toBe(false);
    expect(dev('not a url')).toBe(false);
  });

  it('unregisters every channel', () => {
    unregister();
    expect(table.handlers.size).toBe(0);
  });
});
