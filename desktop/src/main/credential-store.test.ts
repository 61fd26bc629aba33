import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CredentialStore, PLAIN_TEXT_WARNING, type SafeStorageLike } from './credential-store.js';

const dir = mkdtempSync(join(tmpdir(), 'wg-credentials-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A keychain stand-in with safeStorage's contract: what it encrypts only it can decrypt. */
function keychain(options: {
  available: boolean;
  backend?: string;
  key?: number;
}): SafeStorageLike {
  const key = options.key ?? 0x5a;
  const flip = (bytes: Buffer) => Buffer.from(bytes.map((byte) => byte ^ key));
  return {
    isEncryptionAvailable: () => options.available,
    encryptString: (text) => Buffer.concat([Buffer.from('v10'), flip(Buffer.from(text))]),
    decryptString: (data) => {
      if (data.subarray(0, 3).toString() !== 'v10')
        throw new Error('not encrypted by this keychain');
      return flip(data.subarray(3)).toString();
    },
    ...(options.backend ? { getSelectedStorageBackend: () => options.backend! } : {}),
  };
}

const credential = {
  server_url: 'https://webguard.example',
  kind: 'token' as const,
  token: 'wg_secret_token_value',
  refresh_token: null,
};

describe('CredentialStore', () => {
  it('keeps the token encrypted by the OS keychain and reads it back', async () => {
    const file = join(dir, 'os.json');
    const store = new CredentialStore(
      keychain({ available: true, backend: 'gnome_libsecret' }),
      file,
    );
    await expect(store.save(credential)).resolves.toEqual({ storage: 'os', warning: null });
    expect(readFileSync(file, 'utf8')).not.toContain('wg_secret_token_value');
    await expect(store.load()).resolves.toEqual(credential);
    expect(store.storageKind()).toBe('os');
  });

  it('warns when the OS offers no keychain, and keeps the file private', async () => {
    const file = join(dir, 'plain.json');
    const store = new CredentialStore(keychain({ available: false }), file);
    await expect(store.save(credential)).resolves.toEqual({
      storage: 'plain',
      warning: PLAIN_TEXT_WARNING,
    });
    await expect(store.load()).resolves.toEqual(credential);
    const { mode } = await import('node:fs/promises').then((fs) => fs.stat(file));
    expect(mode & 0o777).toBe(0o600);
  });

  it('counts Linux basic_text as plain text though it still scrambles the file', async () => {
    const file = join(dir, 'basic.json');
    const store = new CredentialStore(keychain({ available: true, backend: 'basic_text' }), file);
    await expect(store.save(credential)).resolves.toMatchObject({
      storage: 'plain',
      warning: PLAIN_TEXT_WARNING,
    });
    expect(readFileSync(file, 'utf8')).not.toContain('wg_secret_token_value');
  });

  it('gives nothing back for a missing, broken or foreign file, and clears', async () => {
    const file = join(dir, 'broken.json');
    const store = new CredentialStore(keychain({ available: true }), file);
    await expect(store.load()).resolves.toBeNull();
    writeFileSync(file, '{not json');
    await expect(store.load()).resolves.toBeNull();
    await new CredentialStore(keychain({ available: true, key: 0x11 }), file).save(credential);
    await expect(
      new CredentialStore(keychain({ available: true, key: 0x22 }), file).load(),
    ).resolves.toBeNull();
    await store.clear();
    await expect(store.load()).resolves.toBeNull();
  });

  it('refuses to store something that is not a credential', async () => {
    const store = new CredentialStore(keychain({ available: true }), join(dir, 'bad.json'));
    await expect(store.save({ ...credential, server_url: 'ftp://x' })).rejects.toThrow();
  });
});
