import { parseConfig } from '@vitrine/config';
import { describe, expect, it } from 'vitest';
import { accessConfigSchema } from '../src/config.js';

const KEY = Buffer.alloc(32, 1).toString('base64');
const base = { listen: { port: 0 }, dataDir: '/tmp/x', jurisdictions: {} };
const witness = { id: 'europe', url: 'http://127.0.0.1:7100', publicKey: KEY };

describe('the access log settings', () => {
  it('default to no witnesses, a quorum of 1 and a back-off from 1 s to 30 s', () => {
    expect(parseConfig(accessConfigSchema, base, 'access').log).toEqual({
      checkpointIntervalMs: 1_000,
      witnesses: [],
      witnessQuorum: 1,
      backoff: { initialMs: 1_000, maxMs: 30_000 },
    });
  });

  it('take the centers as witnesses by id, registry address and signing key', () => {
    const config = parseConfig(
      accessConfigSchema,
      { ...base, log: { witnesses: [witness], witnessQuorum: 1 } },
      'access',
    );
    expect(config.log.witnesses).toEqual([witness]);
  });

  it('refuse a witness listed twice, a bad address and a key that is not 32 bytes, by path', () => {
    const log = {
      witnesses: [witness, { id: 'us', url: 'ftp://x', publicKey: 'AAAA' }],
    };
    expect(() => parseConfig(accessConfigSchema, { ...base, log }, 'access')).toThrowError(
      expect.objectContaining({
        code: 'invalid_argument',
        violations: [
          { field: 'log.witnesses.1.url', message: expect.any(String) },
          { field: 'log.witnesses.1.publicKey', message: 'a base64 Ed25519 public key' },
        ],
      }),
    );
    const twice = { witnesses: [witness, witness] };
    expect(() => parseConfig(accessConfigSchema, { ...base, log: twice }, 'access')).toThrowError(
      expect.objectContaining({
        violations: [{ field: 'log.witnesses', message: 'witness ids must be unique' }],
      }),
    );
  });
});
