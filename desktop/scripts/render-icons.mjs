// Renders resources/icons/icon.svg to the PNG sizes the installers and Linux desktops use:
// `node desktop/scripts/render-icons.mjs` (Chromium from WEBGUARD_CHROMIUM_PATH or /usr/bin).
import { copyFileSync, readFileSync } from 'node:fs';
import { URL, fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const icons = fileURLToPath(new URL('../../resources/icons/', import.meta.url));
const svg = readFileSync(`${icons}icon.svg`, 'utf8');
const browser = await chromium.launch({
  executablePath: process.env.WEBGUARD_CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
for (const size of [16, 32, 48, 64, 128, 256, 512, 1024]) {
  const page = await browser.newPage({ viewport: { width: size, height: size } });
  const sized = svg.replace('<svg ', `<svg width="${size}" height="${size}" `);
  await page.setContent(`<body style="margin:0;background:transparent">${sized}</body>`);
  await page.screenshot({ path: `${icons}${size}x${size}.png`, omitBackground: true });
  await page.close();
}
await browser.close();
// electron-builder's source for the macOS and Windows icons.
copyFileSync(`${icons}1024x1024.png`, `${icons}icon.png`);
