import {
  IPC_INVOKE,
  IPC_PUSH,
  type IpcInvokeChannel,
  type IpcPush,
  type IpcPushChannel,
  type IpcRequest,
  type IpcResponse,
} from '@webguard/shared';

/** The part of Electron's `ipcMain` used here. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

/** What main needs to know about who sent a message. */
export interface IpcEventLike {
  senderFrame: { url: string } | null;
}

export type IpcHandlers = {
  [C in IpcInvokeChannel]: (request: IpcRequest<C>) => Promise<IpcResponse<C>> | IpcResponse<C>;
};

export class IpcRejected extends Error {
  override name = 'IpcRejected';
}

/**
 * Registers one handler per channel of the contract. Each call is checked before its handler runs:
 * the sender must be a page of this app, and the request must match its schema; the answer is
 * checked too, so main never sends the renderer something the contract does not allow.
 */
export function registerIpcHandlers(
  ipcMain: IpcMainLike,
  handlers: IpcHandlers,
  isTrustedSender: (url: string) => boolean,
): () => void {
  const channels = Object.keys(IPC_INVOKE) as IpcInvokeChannel[];
  for (const channel of channels) {
    const contract = IPC_INVOKE[channel];
    ipcMain.handle(channel, async (event, raw) => {
      const url = event.senderFrame?.url ?? '';
      if (!isTrustedSender(url))
        throw new IpcRejected(`${channel}: refused a message from ${url || 'an unknown frame'}`);
      const request = contract.request.safeParse(raw);
      if (!request.success) {
        const issue = request.error.issues[0];
        throw new IpcRejected(
          `${channel}: invalid request${issue ? ` (${issue.path.join('.') || 'value'}: ${issue.message})` : ''}`,
        );
      }
      const handler = handlers[channel] as (request: unknown) => unknown;
      return contract.response.parse(await handler(request.data));
    });
  }
  return () => channels.forEach((channel) => ipcMain.removeHandler(channel));
}

/** Checks a push against its schema before it goes to the renderer. */
export function checkedPush<C extends IpcPushChannel>(channel: C, payload: IpcPush<C>): IpcPush<C> {
  return IPC_PUSH[channel].parse(payload) as IpcPush<C>;
}

/**
 * Pages of this app: the built renderer from its folder, or the dev server electron-vite runs.
 * Anything else (a page the app was navigated away to, a subframe) gets no IPC.
 */
export function trustedSender(rendererUrl: string): (url: string) => boolean {
  const expected = new URL(rendererUrl);
  return (url) => {
    try {
      const actual = new URL(url);
      if (expected.protocol === 'file:')
        return actual.protocol === 'file:' && actual.pathname === expected.pathname;
      return actual.origin === expected.origin;
    } catch {
      return false;
    }
  };
}
