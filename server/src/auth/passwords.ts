import { hash, verify } from '@node-rs/argon2';

/**
 * Argon2id with the library's defaults (19 MiB, 2 passes, 1 lane: OWASP's recommended
 * minimum); the PHC string carries its parameters, so raising them later keeps old hashes valid.
 */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  try {
    return await verify(storedHash, password);
  } catch {
    // A malformed stored hash is a failed login, not a server error.
    return false;
  }
}

/** A hash of nothing anyone knows, checked against when the e-mail is unknown so timing tells nothing. */
export const DUMMY_HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$eyt2fTtz6h8V0is8mDrzCw$FpbGJK2CPKJegrfT9h8jyfQdQ8qmrbE/V5aImUD/fKc';
