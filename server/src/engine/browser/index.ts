export { BrowserPool, CHROMIUM_FLAGS, type BrowserPoolOptions } from './browser-pool.js';
export {
  CaseBrowser,
  contextOptions,
  openCaseBrowser,
  settleCaseBrowser,
  type CaseBrowserOptions,
} from './case-browser.js';
export {
  BrowserUnavailableError,
  findChromium,
  findOnPath,
  type ChromiumLocation,
} from './find-executables.js';
