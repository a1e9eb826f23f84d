import { VitrineError } from '@vitrine/errors';
import { errorCode } from './atomic-file.js';

/**
 * File system errors that mean the chunk store cannot take writes until an operator acts:
 * permissions, a read-only mount, a full disk or quota.
 */
const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT']);

/**
 * What a failed chunk write becomes: for a store that cannot take writes, `unavailable`
 * "chunk store not writable (EACCES)" — a caller may retry once an operator has fixed it —
 * with the system error, which names the file, kept as the cause for the server log only;
 * anything else as it is.
 */
export function storeWriteError(err: unknown): unknown {
  const code = errorCode(err);
  if (code === undefined || !NOT_WRITABLE.has(code)) return err;
  return new VitrineError(
    'unavailable',
    `chunk store not writable (${code}): the center cannot store artifact bytes until an operator fixes its storage`,
    { cause: err },
  );
}
