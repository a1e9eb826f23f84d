import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type NoteKey, parseVerifierKey, SignatureType, witnessKeyOfLog } from '@vitrine/tlog';
import { CliError, usageError } from './cli-error.js';
import type { CliIo } from './cli-io.js';

/** The flags that name the keys a command trusts. */
export interface KeyFlags {
  readonly vkey?: readonly string[] | undefined;
  readonly keys?: string | undefined;
}

/**
 * The verifier keys a command trusts: each `--vkey`, and every key in the `--keys` file
 * (what `vitrine federation keys --json` prints: each log's `vkey`, its `witness` key
 * where one is given, and the access log's `vkey`). Without either, `fallback` (the federation manifest in the data
 * folder, checked against its root key) when the command has one; else a usage error.
 */
export async function trustedKeys(
  io: CliIo,
  options: KeyFlags,
  fallback?: () => Promise<string[]>,
): Promise<NoteKey[]> {
  const vkeys = [...(options.vkey ?? [])];
  if (options.keys !== undefined) {
    const text = await readFile(resolve(io.cwd, options.keys), 'utf8').catch((err: Error) => {
      throw new CliError('IO', `cannot read ${options.keys}: ${err.message}`);
    });
    let logs: { vkey?: unknown; witness?: unknown }[];
    try {
      const doc = JSON.parse(text) as { logs?: { vkey?: unknown }[]; access?: { vkey?: unknown } };
      logs = [...(doc.logs ?? []), ...(doc.access ? [doc.access] : [])];
    } catch {
      throw usageError(`${options.keys} is not the JSON \`vitrine federation keys --json\` prints`);
    }
    for (const log of logs) {
      if (typeof log.vkey === 'string') vkeys.push(log.vkey);
      if (typeof log.witness === 'string') vkeys.push(log.witness);
    }
  }
  if (vkeys.length === 0 && fallback !== undefined) vkeys.push(...(await fallback()));
  if (vkeys.length === 0) {
    throw usageError(
      'name the keys to trust: --keys FILE (vitrine federation keys --json) or --vkey',
    );
  }
  try {
    return vkeys.map(parseVerifierKey);
  } catch (err) {
    throw usageError(`not a verifier key: ${(err as Error).message}`);
  }
}

/**
 * The keys a witness quorum is counted with: every trusted cosignature/v1 key, and, for
 * each trusted center key `<federation>/<center>`, its witness key: the same Ed25519 public
 * key as a cosignature/v1 key named `<federation>/<center>/witness` — a center cosigns its
 * peers' checkpoints with the key that signs its own.
 */
export function witnessKeys(keys: readonly NoteKey[]): NoteKey[] {
  const witnesses = keys.filter((k) => k.type === SignatureType.cosignatureV1);
  for (const key of keys) {
    if (key.type !== SignatureType.ed25519) continue;
    const cosigner = witnessKeyOfLog(key);
    if (!witnesses.some((w) => w.name === cosigner.name && w.keyId === cosigner.keyId)) {
      witnesses.push(cosigner);
    }
  }
  return witnesses;
}
