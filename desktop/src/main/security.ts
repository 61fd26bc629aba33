import type { Session, WebContents } from 'electron';

/** The renderer's policy: code only from the app, data from whichever server the user connects to. */
export const RENDERER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  'img-src * data: blob:',
  'media-src * blob:',
  'connect-src *',
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Options every window of the app is created with. */
export const SECURE_WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  spellcheck: false,
} as const;

/** Links to these schemes may open in the user's browser; nothing else leaves the app. */
export const isExternalLink = (url: string): boolean => /^https?:\/\//i.test(url);

/**
 * Keeps a window on the app: navigation away is refused, new windows are refused and http(s)
 * links open in the user's browser instead, and every page of the app gets the CSP header.
 */
export function restrictWebContents(
  contents: WebContents,
  isAppUrl: (url: string) => boolean,
  openExternal: (url: string) => void,
): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalLink(url)) openExternal(url);
    return { action: 'deny' };
  });
}

export function applyCsp(session: Session): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [RENDERER_CSP] },
    });
  });
  // No page of the app needs the camera, notifications or anything else a site may ask for.
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
}
