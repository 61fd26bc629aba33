import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  IPC_PUSH,
  type DesktopApi,
  type IpcInvokeChannel,
  type IpcPush,
  type IpcPushChannel,
  type IpcRequest,
  type IpcResponse,
} from '@webguard/shared';

const invoke = <C extends IpcInvokeChannel>(
  channel: C,
  request: IpcRequest<C>,
): Promise<IpcResponse<C>> => ipcRenderer.invoke(channel, request) as Promise<IpcResponse<C>>;

/** Listens to one push channel; messages that do not match the contract are dropped. */
function on<C extends IpcPushChannel>(
  channel: C,
  listener: (payload: IpcPush<C>) => void,
): () => void {
  const handler = (_event: IpcRendererEvent, raw: unknown) => {
    const parsed = IPC_PUSH[channel].safeParse(raw);
    if (parsed.success) listener(parsed.data as IpcPush<C>);
  };
  ipcRenderer.on(channel, handler);
  return () => void ipcRenderer.removeListener(channel, handler);
}

/** The only door from the renderer to main: named methods, no channel names, no ipcRenderer. */
const api: DesktopApi = {
  appInfo: () => invoke('app:info', undefined),
  loadCredential: () => invoke('credential:load', undefined),
  saveCredential: (credential) => invoke('credential:save', credential),
  clearCredential: () => invoke('credential:clear', undefined),
  pickSkillFolder: () => invoke('runner:pick-folder', undefined),
  inspectSkill: (folder) => invoke('runner:inspect', { folder }),
  startLocalRun: (request) => invoke('runner:start', request),
  stopLocalRun: (runId) => invoke('runner:stop', { run_id: runId }),
  onLocalRunEvent: (listener) => on('runner:event', listener),
  onLocalRunFrame: (listener) => on('runner:frame', listener),
  onLocalRunState: (listener) => on('runner:state', listener),
  onOpenRun: (listener) => on('app:open-run', listener),
  onNavigate: (listener) => on('app:navigate', listener),
};

contextBridge.exposeInMainWorld('api', api);
