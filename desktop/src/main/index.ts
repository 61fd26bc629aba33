import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  BrowserWindow,
  Menu,
  app,
  dialog,
  ipcMain,
  safeStorage,
  screen,
  session,
  shell,
} from 'electron';
import { LocalRunnerHost } from '@webguard/server/dist/local-runner/index.js';
import { checkedPush, registerIpcHandlers, trustedSender } from './ipc.js';
import { CredentialStore } from './credential-store.js';
import { PROTOCOL, findDeepLink, parseDeepLink } from './deep-link.js';
import { menuTemplate } from './menu.js';
import { bridgeRunner } from './runner-bridge.js';
import {
  SECURE_WEB_PREFERENCES,
  applyCsp,
  isExternalLink,
  restrictWebContents,
} from './security.js';
import { loadWindowState, saveWindowState } from './window-state.js';

// electron-vite serves the renderer in development; the build loads it from disk.
const devServer = process.env['ELECTRON_RENDERER_URL'];
const rendererFile = join(import.meta.dirname, '../renderer/index.html');
const rendererUrl = devServer ?? pathToFileURL(rendererFile).href;
const isAppUrl = trustedSender(rendererUrl);

let window: BrowserWindow | null = null;
/** A run to open once the window is ready (a deep link that started the app). */
let pendingRun = findDeepLink(process.argv);

function openRun(executionId: number): void {
  if (!window) {
    pendingRun = { execution_id: executionId };
    return;
  }
  if (window.isMinimized()) window.restore();
  window.focus();
  window.webContents.send(
    'app:open-run',
    checkedPush('app:open-run', { execution_id: executionId }),
  );
}

async function createWindow(): Promise<void> {
  const stateFile = join(app.getPath('userData'), 'window-state.json');
  const displays = screen.getAllDisplays().map((display) => display.workArea);
  const state = await loadWindowState(stateFile, displays);
  const created = new BrowserWindow({
    ...state,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'WebGuard',
    backgroundColor: '#f8f9fa',
    webPreferences: {
      ...SECURE_WEB_PREFERENCES,
      preload: join(import.meta.dirname, '../preload/index.cjs'),
    },
  });
  window = created;
  restrictWebContents(created.webContents, isAppUrl, (url) => void shell.openExternal(url));
  if (state.maximized) created.maximize();
  created.once('ready-to-show', () => created.show());
  created.webContents.once('did-finish-load', () => {
    if (pendingRun) openRun(pendingRun.execution_id);
    pendingRun = null;
  });
  const remember = () => {
    if (created.isDestroyed()) return;
    const bounds = created.getNormalBounds();
    void saveWindowState(stateFile, { ...bounds, maximized: created.isMaximized() }).catch(
      () => undefined,
    );
  };
  created.on('resized', remember);
  created.on('moved', remember);
  created.on('close', remember);
  created.on('closed', () => {
    window = null;
  });
  await (devServer ? created.loadURL(devServer) : created.loadFile(rendererFile));
}

/** Shows a page of the app, e.g. from the menu. */
function navigate(path: string): void {
  window?.webContents.send('app:navigate', checkedPush('app:navigate', { path }));
}

function main(): void {
  // One instance: a second launch (e.g. from a deep link) hands its arguments to the first.
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  if (process.defaultApp && process.argv[1]) {
    app.setAsDefaultProtocolClient(PROTOCOL, process.execPath, [process.argv[1]]);
  } else {
    app.setAsDefaultProtocolClient(PROTOCOL);
  }
  app.on('second-instance', (_event, argv) => {
    const link = findDeepLink(argv);
    if (link) openRun(link.execution_id);
    else window?.focus();
  });
  app.on('open-url', (event, url) => {
    event.preventDefault();
    const link = parseDeepLink(url);
    if (link) openRun(link.execution_id);
  });
  app.on('web-contents-created', (_event, contents) => {
    restrictWebContents(contents, isAppUrl, (url) => {
      if (isExternalLink(url)) void shell.openExternal(url);
    });
  });

  const runner = new LocalRunnerHost({
    // The child runs on Electron's own Node: no separate Node needed on the user's machine.
    execPath: process.execPath,
    env: { ELECTRON_RUN_AS_NODE: '1' },
  });
  const credentials = new CredentialStore(
    safeStorage,
    join(app.getPath('userData'), 'credential.json'),
  );

  void app.whenReady().then(async () => {
    applyCsp(session.defaultSession);
    registerIpcHandlers(
      ipcMain,
      {
        'app:info': () => ({
          version: app.getVersion(),
          platform: process.platform,
          token_storage: credentials.storageKind(),
        }),
        'credential:load': () => credentials.load(),
        'credential:save': (credential) => credentials.save(credential),
        'credential:clear': async () => {
          await credentials.clear();
          return null;
        },
        'runner:pick-folder': async () => {
          const options = {
            title: 'Choose a skill folder',
            properties: ['openDirectory' as const],
          };
          const picked = window
            ? await dialog.showOpenDialog(window, options)
            : await dialog.showOpenDialog(options);
          return { folder: picked.canceled ? null : (picked.filePaths[0] ?? null) };
        },
        'runner:inspect': ({ folder }) => runner.inspect(folder),
        'runner:start': (request) => ({ run_id: runner.start(request) }),
        'runner:stop': ({ run_id }) => ({ stopped: runner.stop(run_id) }),
      },
      isAppUrl,
    );
    bridgeRunner(runner, () => window?.webContents ?? null);
    Menu.setApplicationMenu(
      Menu.buildFromTemplate(
        menuTemplate(process.platform, {
          go: navigate,
          openRun: () => navigate('/runs?open=1'),
          openDocs: () =>
            void shell.openExternal('https://github.com/webguard/webguard#desktop-app'),
        }),
      ),
    );
    await createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) void createWindow();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('before-quit', () => void runner.close());
}

main();
