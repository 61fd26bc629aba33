import type { MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  /** Navigates the renderer to a page of the app (hash route). */
  go(path: string): void;
  /** Asks for a run id and opens it. */
  openRun(): void;
  openDocs(): void;
}

/** The application menu; Electron's roles supply the standard Edit/View/Window items per OS. */
export function menuTemplate(
  platform: NodeJS.Platform,
  actions: MenuActions,
): MenuItemConstructorOptions[] {
  const mac = platform === 'darwin';
  return [
    ...(mac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open Run…', accelerator: 'CmdOrCtrl+O', click: () => actions.openRun() },
        { label: 'Local Runner', accelerator: 'CmdOrCtrl+L', click: () => actions.go('/local') },
        { type: 'separator' },
        mac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'Go',
      submenu: [
        { label: 'Dashboard', accelerator: 'CmdOrCtrl+1', click: () => actions.go('/') },
        { label: 'Suites', accelerator: 'CmdOrCtrl+2', click: () => actions.go('/suites') },
        { label: 'Runs', accelerator: 'CmdOrCtrl+3', click: () => actions.go('/runs') },
        { label: 'Flaky Tests', accelerator: 'CmdOrCtrl+4', click: () => actions.go('/flaky') },
        { label: 'Skills', accelerator: 'CmdOrCtrl+5', click: () => actions.go('/skills') },
      ],
    },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [{ label: 'WebGuard Documentation', click: () => actions.openDocs() }],
    },
  ];
}
