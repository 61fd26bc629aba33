import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { StoredCredential, type TokenSaveResult, type TokenStorageKind } from '@webguard/shared';

/** The part of Electron's `safeStorage` this module uses, so tests can pass their own. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only: `basic_text` means no keychain, the "encryption" is a fixed key. */
  getSelectedStorageBackend?(): string;
}

export const PLAIN_TEXT_WARNING =
  'This system offers no keychain (on Linux: install and unlock GNOME Keyring or KWallet), so the token is kept in a file only your user account can read. Anyone who can read your files can use it.';

const StoredFile = z.object({
  version: z.literal(1),
  encrypted: z.boolean(),
  /** Base64 of the encrypted JSON, or the JSON itself when not encrypted. */
  data: z.string(),
});

/**
 * Keeps the server credential on disk, encrypted with the OS keychain through `safeStorage` when
 * the OS offers one, else in a file readable only by the user, with a warning saying so.
 */
export class CredentialStore {
  constructor(
    private readonly safeStorage: SafeStorageLike,
    private readonly file: string,
  ) {}

  /** `os` when secrets are protected by the OS keychain, `plain` otherwise. */
  storageKind(): TokenStorageKind {
    if (!this.safeStorage.isEncryptionAvailable()) return 'plain';
    const backend = this.safeStorage.getSelectedStorageBackend?.();
    return backend === 'basic_text' ? 'plain' : 'os';
  }

  async save(credential: StoredCredential): Promise<TokenSaveResult> {
    const valid = StoredCredential.parse(credential);
    const json = JSON.stringify(valid);
    const kind = this.storageKind();
    // Encrypt whenever possible: even `basic_text` beats a readable file.
    const encrypted = this.safeStorage.isEncryptionAvailable();
    const data = encrypted ? this.safeStorage.encryptString(json).toString('base64') : json;
    await mkdir(dirname(this.file), { recursive: true });
    await writeFile(this.file, JSON.stringify({ version: 1, encrypted, data }), { mode: 0o600 });
    return { storage: kind, warning: kind === 'plain' ? PLAIN_TEXT_WARNING : null };
  }

  /** The saved credential, or null when there is none or it cannot be read back. */
  async load(): Promise<StoredCredential | null> {
    let raw: string;
    try {
      raw = await readFile(this.file, 'utf8');
    } catch {
      return null;
    }
    try {
      const stored = StoredFile.parse(JSON.parse(raw));
      const json = stored.encrypted
        ? this.safeStorage.decryptString(Buffer.from(stored.data, 'base64'))
        : stored.data;
      return StoredCredential.parse(JSON.parse(json));
    } catch {
      // Written by another keychain or tampered with: connecting again is the only way forward.
      return null;
    }
  }

  async clear(): Promise<void> {
    await rm(this.file, { force: true });
  }
}
