import type { DesktopApi, StoredCredential, TokenSaveResult } from '@webguard/shared';

declare global {
  interface Window {
    /** Present in the desktop app (from the preload); absent in the web UI. */
    api?: DesktopApi;
  }
}

/** The desktop app's preload API, or undefined in a browser. */
export const desktop: DesktopApi | undefined = window.api;
export const isDesktop = desktop !== undefined;

const STORAGE_KEY = 'webguard.credential';

/**
 * Where the credential lives: the OS keychain through main in the desktop app, the browser's
 * local storage in the web UI (the same origin as the API, so nothing new is exposed).
 */
export const credentialStore = {
  async load(): Promise<StoredCredential | null> {
    if (desktop) return desktop.loadCredential();
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    try {
      return JSON.parse(raw) as StoredCredential;
    } catch {
      localStorage.removeItem(STORAGE_KEY);
      return null;
    }
  },
  async save(credential: StoredCredential): Promise<TokenSaveResult> {
    if (desktop) return desktop.saveCredential(credential);
    localStorage.setItem(STORAGE_KEY, JSON.stringify(credential));
    return { storage: 'plain', warning: null };
  },
  async clear(): Promise<void> {
    if (desktop) await desktop.clearCredential();
    else localStorage.removeItem(STORAGE_KEY);
  },
};

/** The web UI is served by the server itself, so its origin is the natural default. */
export const defaultServerUrl = isDesktop ? 'http://127.0.0.1:8000' : window.location.origin;
