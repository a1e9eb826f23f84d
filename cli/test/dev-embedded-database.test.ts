import { accessConfigSchema } from '@vitrine/access';
import { parseConfig } from '@vitrine/config';
import { registryConfigSchema } from '@vitrine/registry';
import { describe, expect, it } from 'vitest';
import { DEV_EMBEDDED_DATABASE, devAccessConfig, devCenterConfig } from '../src/dev-federation.js';

const KEY = Buffer.alloc(32, 7).toString('base64');
const WITNESSES = [{ id: 'asia', url: 'http://127.0.0.1:7410', publicKey: KEY }];
const TRUST = {
  manifestFile: '/tmp/dev/federation-manifest.json',
  rootKey: KEY,
  witnesses: WITNESSES,
};
const ACCESS = { url: 'http://127.0.0.1:7400', trustKey: KEY, operatorKey: KEY };

describe('vitrine dev: embedded databases', () => {
  it('runs each center and the access service with the dev buffer pool', () => {
    expect(DEV_EMBEDDED_DATABASE).toEqual({ sharedBuffers: '8MB' });
    for (const index of [0, 1, 2]) {
      const { registry } = devCenterConfig('/tmp/dev', index, 7400, TRUST, ACCESS);
      const parsed = parseConfig(registryConfigSchema, registry, 'registry');
      expect(parsed.embeddedDatabase).toEqual(DEV_EMBEDDED_DATABASE);
    }
    const access = parseConfig(
      accessConfigSchema,
      devAccessConfig('/tmp/dev', 7400, ACCESS, WITNESSES),
      'access',
    );
    expect(access.embeddedDatabase).toEqual(DEV_EMBEDDED_DATABASE);
  });

  it('leaves the setting out for centers kept on PostgreSQL', () => {
    const url = 'postgres://postgres@127.0.0.1:5432/vitrine';
    const { registry } = devCenterConfig('/tmp/dev', 0, 7400, TRUST, ACCESS, url);
    const parsed = parseConfig(registryConfigSchema, registry, 'registry');
    expect(parsed.databaseUrl).toBe(url);
    expect(parsed.embeddedDatabase).toEqual({});
  });
});
