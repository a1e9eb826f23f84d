import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TempDir, tempDir } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vitrine } from './cli-process.js';

describe('vitrine serve: production entry points refuse bad config at start', () => {
  let dir: TempDir;
  beforeAll(async () => {
    dir = await tempDir('vitrine-serve-');
  });
  afterAll(() => dir.cleanup());

  it('names every bad registry setting and exits non-zero', async () => {
    const config = join(dir.path, 'registry.json');
    await writeFile(
      config,
      JSON.stringify({
        center: { id: 'Europe!', jurisdiction: 'EU' },
        jurisdictions: ['EU'],
        listen: { port: 99999 },
        dataDir: dir.path,
        surprise: true,
      }),
    );
    const result = await vitrine(['serve', 'registry', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^vitrine: invalid registry \(.*registry\.json\) config: /);
    for (const setting of ['center.id', 'listen.port', 'surprise']) {
      expect(result.stderr).toContain(setting);
    }
    expect(result.stderr).toContain('(CONFIG)');
  });

  it('says when the config file is missing or not JSON, in --json too', async () => {
    const missing = await vitrine([
      'serve',
      'center',
      '--config',
      join(dir.path, 'none.json'),
      '--json',
    ]);
    expect(missing.code).toBe(2);
    // One line, like the ready line it stands in for.
    expect(missing.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(missing.stdout).error).toMatchObject({ code: 'CONFIG' });
    const broken = join(dir.path, 'broken.json');
    await writeFile(broken, '{ "listen": ');
    const bad = await vitrine(['serve', 'access', '--config', broken]);
    expect(bad.stderr).toContain('is not valid JSON');
  });

  it('explains that sync runs beside its registry', async () => {
    const result = await vitrine(['serve', 'sync', '--config', join(dir.path, 'x.json')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('use `vitrine serve center`');
  });

  it('refuses an unknown service as a usage error', async () => {
    const result = await vitrine(['serve', 'mailer', '--config', join(dir.path, 'x.json')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown service "mailer"');
  });

  it('refuses a Prometheus port that is not one as a CONFIG error naming the variable', async () => {
    const result = await vitrine(['serve', 'access', '--config', join(dir.path, 'x.json')], {
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_EXPORTER_PROMETHEUS_PORT: '99999',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'OTEL_EXPORTER_PROMETHEUS_PORT must be a port number from 1 to 65535, not "99999"',
    );
    expect(result.stderr).toContain('(CONFIG)');
  });
});
