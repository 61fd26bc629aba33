// The local runner's child process: runs one skill folder and reports over the process channel,
// so a skill that crashes or spins forever takes only this process down, never the app.
import {
  LocalRunnerHostMessage,
  type LocalRunnerChildMessage,
  type LocalSkill,
} from '@webguard/shared';
import { loadSkillFolder, runSkillFolder, type FolderSkill } from './run-skill-folder.js';

const send = (message: LocalRunnerChildMessage) =>
  new Promise<void>((resolve) => {
    if (process.send) process.send(message, () => resolve());
    else resolve();
  });

async function handle(raw: unknown): Promise<void> {
  const parsed = LocalRunnerHostMessage.safeParse(raw);
  if (!parsed.success) return;
  const message = parsed.data;
  const describe = (loaded: FolderSkill): LocalSkill =>
    loaded.ok
      ? { ok: true, folder: loaded.folder, skill: loaded.skill.info }
      : { ok: false, folder: loaded.folder, error: loaded.error };
  if (message.type === 'inspect') {
    await send({ type: 'skill', skill: describe(await loadSkillFolder(message.folder)) });
  } else {
    await runSkillFolder({
      folder: message.folder,
      params: message.params,
      headed: message.headed,
      timeoutMs: message.timeout_ms,
      chromiumPath: message.chromium_path,
      onLoaded: (loaded) => void send({ type: 'skill', skill: describe(loaded) }),
      emit: (event) => void send({ type: 'event', event }),
      onFrame: (frame) => void send({ type: 'frame', frame }),
    });
    await send({ type: 'done' });
  }
  // One job per process: let it end even if the skill left timers or sockets behind.
  process.disconnect();
}

process.once('message', (raw) => void handle(raw));
