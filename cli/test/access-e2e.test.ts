import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type RunningAccess, startAccess } from '@vitrine/access';
import { readCredential, TokenKeyring } from '@vitrine/credentials';
import { generateSigningKeyPair } from '@vitrine/crypto';
import { createLogger } from '@vitrine/rpc';
import { type TempDir, tempDir, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAuthFor, createProfile, openProfile } from '../src/profile.js';
import { federationFile, runCli } from './run-cli.js';

/** The embedded backend: these tests are about the CLI; the service has its own suites. */
const pglite = testBackends()[0];

interface RequestJson {
  request: { id: string; state: string; credentialId: string | null; requestedBy: string };
}

describe('vitrine partner and access commands against a real access service', () => {
  let dir: TempDir;
  let access: RunningAccess;
  let cleanupDb: () => Promise<void>;
  let home = '';
  const cli = (...args: string[]) => runCli(args, { cwd: dir.path });
  let partnerId = '';
  let requestId = '';
  let credentialId = '';

  beforeAll(async () => {
    if (pglite === undefined) throw new Error('no test backend');
    dir = await tempDir('vitrine-cli-access-');
    home = join(dir.path, '.vitrine');
    const operator = await createProfile(
      home,
      'operator',
      'operator:local',
      await generateSigningKeyPair(),
    );
    const database = await pglite.open();
    cleanupDb = () => database.cleanup();
    access = await startAccess(
      {
        listen: { host: '127.0.0.1', port: 0 },
        dataDir: join(dir.path, 'access'),
        ...(database.url ? { databaseUrl: database.url } : {}),
        operators: [
          {
            name: 'local',
            roles: ['operator', 'approver', 'security'],
            publicKey: Buffer.from(operator.key.publicKey).toString('base64'),
          },
        ],
        jurisdictions: {
          EU: {
            centers: ['europe'],
            maxLifetimeHours: 720,
            kinds: ['source', 'update', 'rules'],
            approvals: 1,
          },
        },
      },
      { logger: createLogger('cli-access', { VITRINE_LOG_LEVEL: 'silent' }) },
    );
    const file = federationFile({
      asia: 'http://127.0.0.1:1',
      europe: 'http://127.0.0.1:1',
      us: 'http://127.0.0.1:1',
    });
    file.access.url = access.url;
    await writeFile(join(home, 'federation.json'), JSON.stringify(file));
  });
  afterAll(async () => {
    await access?.stop();
    await cleanupDb?.();
    await dir?.cleanup();
  });

  it('registers a partner with a key made in a new profile', async () => {
    const run = await cli(
      'partner',
      'register',
      '--org',
      'Bundesamt Review',
      '--jurisdiction',
      'eu',
      '--contact',
      'sec@bund.example',
      '--profile',
      'bund',
      '--json',
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = run.json() as { partner: { id: string; jurisdictions: string[] }; profile: string };
    partnerId = out.partner.id;
    expect(out.partner.jurisdictions).toEqual(['EU']);
    expect(out.profile).toBe('bund');
    const keyFile = await stat(join(home, 'profiles', 'bund', 'key.json'));
    expect(keyFile.mode & 0o777).toBe(0o600);
    const profile = await openProfile(home, 'bund');
    expect(profile.principal).toBe(`partner:${partnerId}`);
  });

  it('refuses to overwrite a profile, and says how to make a missing one', async () => {
    const again = await cli(
      'partner',
      'register',
      '--org',
      'X',
      '--jurisdiction',
      'EU',
      '--contact',
      'x',
      '--profile',
      'bund',
    );
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^vitrine: profile 'bund' exists already.*\(USAGE\)\n$/);
    const missing = await cli('access', 'ls', '--profile', 'nobody');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no profile 'nobody'");
  });

  it('requests access as the partner; the partner may not approve its own request', async () => {
    const run = await runCli(
      [
        'access',
        'request',
        '--jurisdiction',
        'EU',
        '--kind',
        'source',
        '--product',
        'router-os',
        '--action',
        'read',
        'review',
        '--for',
        '48h',
        '--justification',
        'certification review',
        '--json',
      ],
      { cwd: dir.path, env: { VITRINE_PROFILE: 'bund' } },
    );
    expect(run.stderr).toBe('');
    const out = run.json() as RequestJson;
    requestId = out.request.id;
    expect(out.request.state).toBe('pending');
    expect(out.request.requestedBy).toBe(`partner:${partnerId}`);
    const self = await cli(
      'access',
      'approve',
      requestId,
      '--reason',
      'trust me',
      '--profile',
      'bund',
    );
    expect(self.code).toBe(1);
    expect(self.stderr).toMatch(/^vitrine: access: .*\(PERMISSION_DENIED\)\n$/);
  });

  it('refuses a request over the policy in one line naming the limit', async () => {
    const run = await cli(
      'access',
      'request',
      '--profile',
      'bund',
      '--jurisdiction',
      'EU',
      '--for',
      '31d',
      '--justification',
      'long',
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('maximum of 720 hours');
    expect(run.stderr).toContain('(INVALID_ARGUMENT)');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    const json = await cli(
      'access',
      'request',
      '--profile',
      'bund',
      '--jurisdiction',
      'EU',
      '--for',
      '31d',
      '--justification',
      'long',
      '--json',
    );
    expect(json.code).toBe(1);
    // The bad field comes from the access service's google.rpc.BadRequest detail.
    expect(json.json()).toEqual({
      error: {
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('maximum of 720 hours'),
        violations: [
          { field: 'expires_at', description: 'the window exceeds the EU maximum of 720 hours' },
        ],
      },
    });
    const both = await cli(
      'access',
      'request',
      '--profile',
      'bund',
      '--jurisdiction',
      'EU',
      '--for',
      '1h',
      '--until',
      '2030-01-01T00:00:00Z',
      '--justification',
      'x',
    );
    expect(both.code).toBe(2);
  });

  it('approves as the operator and stores the credential in the partner profile on show', async () => {
    const approved = await cli(
      'access',
      'approve',
      requestId,
      '--reason',
      'scope matches',
      '--json',
    );
    expect(approved.stderr).toBe('');
    const out = approved.json() as RequestJson;
    expect(out.request.state).toBe('approved');
    credentialId = out.request.credentialId ?? '';
    const shown = await cli('access', 'show', requestId, '--profile', 'bund');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`credential ${credentialId} stored in profile 'bund'`);
    const profile = await openProfile(home, 'bund');
    const keyring = new TokenKeyring();
    await keyring.set([access.tokenKey]);
    const credential = await readCredential(profile.credential ?? '', keyring);
    expect(credential.id).toBe(credentialId);
    expect(credential.holderKey).toEqual(profile.key.publicKey);
    // The partner's calls to centers now carry it.
    const auth = await callAuthFor(profile)();
    expect('credential' in auth && auth.credential).toBe(profile.credential);
  });

  it('lists all requests for the operator and its own for a partner', async () => {
    const all = await cli('access', 'ls', '--json');
    const mine = await cli('access', 'ls', '--profile', 'bund', '--approver', 'local', '--json');
    for (const run of [all, mine]) {
      const ids = (run.json() as { requests: { id: string }[] }).requests.map((r) => r.id);
      expect(ids).toContain(requestId);
    }
    const table = await cli('access', 'ls');
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+STATE\s+PARTNER/);
  });

  it('renews the operator credential from the access service when it has none', async () => {
    const operator = await openProfile(home, 'operator');
    expect(operator.credential).toBeUndefined();
    const auth = callAuthFor(operator);
    const first = await auth();
    const second = await auth();
    expect('credential' in first && first.credential).toMatch(/^v4\.public\./);
    expect(second).toEqual(first);
    const saved = JSON.parse(
      await readFile(join(home, 'profiles', 'operator', 'profile.json'), 'utf8'),
    );
    expect(saved.credential).toBe('credential' in first ? first.credential : '');
  });

  it('revokes the credential and rotates keys', async () => {
    const revoked = await cli(
      'access',
      'revoke',
      '--credential',
      credentialId,
      '--reason',
      'review finished',
      '--json',
    );
    expect(revoked.stderr).toBe('');
    expect((revoked.json() as { revocation: { targetId: string } }).revocation.targetId).toBe(
      credentialId,
    );
    const two = await cli(
      'access',
      'revoke',
      '--credential',
      credentialId,
      '--partner',
      partnerId,
      '--reason',
      'x',
    );
    expect(two.code).toBe(2);
    const byPartner = await cli('access', 'keys', 'rotate', '--profile', 'bund');
    expect(byPartner.stderr).toContain('(PERMISSION_DENIED)');
    const listed = await cli('access', 'revocations', '--partner', partnerId, '--json');
    const ids = (listed.json() as { revocations: { targetId: string }[] }).revocations;
    expect(ids.map((r) => r.targetId)).toEqual([credentialId]);
    const rotated = await cli('access', 'keys', 'rotate', '--json');
    expect((rotated.json() as { active: { keyId: string } }).active.keyId).toMatch(/^k4\.pid\./);
  });

  it('shows a revoked credential as revoked, with when, by whom and why (text and --json)', async () => {
    interface Shown {
      request: {
        state: string;
        revocation: {
          target: string;
          targetId: string;
          reason: string;
          revokedBy: string;
          at: string;
        } | null;
      };
    }
    const shown = await cli('access', 'show', requestId, '--json');
    const { revocation } = (shown.json() as Shown).request;
    expect((shown.json() as Shown).request.state).toBe('revoked');
    expect(revocation).toMatchObject({
      target: 'credentialId',
      targetId: credentialId,
      reason: 'review finished',
      revokedBy: 'operator:local',
    });
    const text = await cli('access', 'show', requestId);
    expect(text.stdout).toMatch(/^request:\s+r-\S+ \(revoked\)$/m);
    expect(text.stdout).toMatch(
      new RegExp(
        `^revoked:\\s+${revocation?.at} by operator:local: review finished \\(credential ${credentialId}, v-`,
        'm',
      ),
    );
    const listed = await cli('access', 'ls', '--json');
    const row = (
      listed.json() as { requests: (Shown['request'] & { id: string })[] }
    ).requests.find((r) => r.id === requestId);
    expect(row).toMatchObject({ state: 'revoked', revocation: { targetId: credentialId } });
    const table = await cli('access', 'ls');
    expect(table.stdout.split('\n').find((line) => line.startsWith(requestId))).toMatch(
      new RegExp(`^${requestId}\\s+revoked\\s+${partnerId}`),
    );
    // The partner's revoked credential is not stored in its profile again.
    const own = await cli('access', 'show', requestId, '--profile', 'bund');
    expect(own.stdout).not.toContain('stored in profile');
  });

  it('shows a credential whose window opens later as revoked by its partner’s revocation', async () => {
    const from = new Date(Date.now() + 24 * 3_600_000).toISOString();
    const requested = await cli(
      'access',
      'request',
      '--profile',
      'bund',
      '--jurisdiction',
      'EU',
      '--kind',
      'rules',
      '--from',
      from,
      '--for',
      '2h',
      '--justification',
      'next week',
      '--json',
    );
    expect(requested.stderr).toBe('');
    const laterId = (requested.json() as RequestJson).request.id;
    await cli('access', 'approve', laterId, '--reason', 'fine');
    const revoked = await cli(
      'access',
      'revoke',
      '--partner',
      partnerId,
      '--reason',
      'contract ended',
    );
    expect(revoked.code).toBe(0);
    const shown = await cli('access', 'show', laterId, '--profile', 'bund', '--json');
    expect((shown.json() as { request: unknown }).request).toMatchObject({
      state: 'revoked',
      revocation: {
        target: 'partnerId',
        targetId: partnerId,
        reason: 'contract ended',
        revokedBy: 'operator:local',
      },
    });
  });
});
