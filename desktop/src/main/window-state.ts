import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';

export const WindowState = z.object({
  x: z.number().int().optional(),
  y: z.number().int().optional(),
  width: z.number().int().min(640).max(16_384),
  height: z.number().int().min(480).max(16_384),
  maximized: z.boolean(),
});
export type WindowState = z.infer<typeof WindowState>;

export const DEFAULT_WINDOW: WindowState = { width: 1360, height: 860, maximized: false };

export interface Area {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** True when at least a corner of the window's title bar is on one of the displays. */
function visibleOn(state: WindowState, displays: readonly Area[]): boolean {
  if (state.x === undefined || state.y === undefined) return true;
  const { x, y } = state;
  return displays.some(
    (area) =>
      x + 100 > area.x && x < area.x + area.width && y >= area.y && y < area.y + area.height - 40,
  );
}

/**
 * The window's last size and place, read back on start. A file that is missing, broken or
 * describes a place on a display that is gone gives the default, centred on the main display.
 */
export async function loadWindowState(
  file: string,
  displays: readonly Area[],
): Promise<WindowState> {
  try {
    const state = WindowState.parse(JSON.parse(await readFile(file, 'utf8')));
    if (visibleOn(state, displays)) return state;
    return { width: state.width, height: state.height, maximized: state.maximized };
  } catch {
    return DEFAULT_WINDOW;
  }
}

export async function saveWindowState(file: string, state: WindowState): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(WindowState.parse(state)));
}
