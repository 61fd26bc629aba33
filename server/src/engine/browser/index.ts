export { BrowserPool, CHROMIUM_FLAGS, type BrowserPoolOptions } from './browser-pool.js';
export {
  openCaseBrowser,
  settleCaseBrowser,
  type CaseBrowser,
  type CaseBrowserOptions,
} from './case-browser.js';
export {
  BrowserUnavailableError,
  findChromium,
  type ChromiumLocation,
} from './find-executables.js';
export { jpegSize, Screencast, type FrameSink, type ScreencastFrame } from './screencast.js';
export { BrowserHost } from './browser-host.js';
export type { RemoteBrowser } from './browser-pool.js';
