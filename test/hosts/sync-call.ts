import { readFile } from 'node:fs/promises';
import { syncCall } from '../runbook.js';

/**
 * `node --import tsx sync-call.ts URL CA [CERT KEY]`: prints what one call to a sync port
 * got (syncCall), so a test can make the call from inside another host's namespace.
 */
const [url, ca, cert, key] = process.argv.slice(2);
if (url === undefined || ca === undefined) {
  console.error('usage: sync-call.ts URL CA [CERT KEY]');
  process.exit(2);
}
const tls = { ca: await readFile(ca, 'utf8') };
const client =
  cert !== undefined && key !== undefined
    ? { cert: await readFile(cert, 'utf8'), key: await readFile(key, 'utf8') }
    : {};
console.log(await syncCall(url, { ...tls, ...client }));
