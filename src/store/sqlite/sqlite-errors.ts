import { accessSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { BatonError, StoreFullError, StoreReadOnlyError } from '../../errors.ts';

/** SQLite's primary result codes this store names (extended codes keep them in the low byte). */
const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;

/**
 * The Baton error for a SQLite failure that is about the store's medium, not its content: a
 * read-only file, directory or mount (STORE_READ_ONLY) or a full disk (STORE_FULL). Undefined for
 * anything else, which the caller reports as it did.
 */
export function sqliteMediumError(error: unknown, location: string): BatonError | undefined {
  if (BatonError.isInstance(error) || !(error instanceof Error)) return undefined;
  const code = (error as { errcode?: unknown }).errcode;
  const primary = typeof code === 'number' ? code & 0xff : undefined;
  const message = error.message;
  if (primary === SQLITE_FULL || /database or disk is full/i.test(message))
    return new StoreFullError({ location, reason: message, cause: error });
  if (primary === SQLITE_IOERR && /ENOSPC|no space/i.test(message))
    return new StoreFullError({ location, reason: message, cause: error });
  if (primary === SQLITE_READONLY || /readonly database|read-only/i.test(message))
    return new StoreReadOnlyError({ location, reason: message, cause: error });
  if ((primary === SQLITE_CANTOPEN || /unable to open database file/i.test(message)) && !writable(location))
    return new StoreReadOnlyError({
      location,
      reason: `${message}: its directory cannot be written`,
      cause: error,
    });
  return undefined;
}

function writable(location: string): boolean {
  if (location === ':memory:') return true;
  try {
    accessSync(dirname(location), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
