import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ConnectError } from '@connectrpc/connect';
import { RegistryService } from '@vitrine/proto/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectClient, createGrpcClient, type ServerTls } from '../src/index.js';
import { startEchoServer } from './echo-server.js';

/** A throwaway CA with a server and a client certificate, made by openssl for this run. */
function makeCertificates(dir: string) {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = (name: string) =>
    run(
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      `${name}.key`,
    );
  key('ca');
  run(
    'req',
    '-x509',
    '-key',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=vitrine test CA',
    '-days',
    '1',
  );
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    key(name);
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    run('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    );
  }
  const read = (file: string) => readFileSync(join(dir, file));
  return {
    ca: read('ca.crt'),
    server: { cert: read('server.crt'), key: read('server.key') },
    client: { cert: read('client.crt'), key: read('client.key') },
  };
}

let dir: string;
let certs: ReturnType<typeof makeCertificates>;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vitrine-rpc-tls-'));
  certs = makeCertificates(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function codeOfCall(call: () => Promise<unknown>): Promise<Code | 'ok'> {
  try {
    await call();
    return 'ok';
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

describe('TLS', () => {
  it('serves gRPC over HTTP/2 and Connect over HTTP/1.1 on one TLS port', async () => {
    const server = await startEchoServer({ tls: certs.server });
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const tls = { ca: certs.ca };
      const grpc = await createGrpcClient(RegistryService, server.url, { tls }).listArtifacts({});
      expect(grpc.nextPageToken).toBe('grpc');
      const connect = await createConnectClient(RegistryService, server.url, { tls }).listArtifacts(
        {},
      );
      expect(connect.nextPageToken).toBe('connect');
      const untrusting = createGrpcClient(RegistryService, server.url);
      expect(await codeOfCall(() => untrusting.listArtifacts({}))).toBe(Code.Internal);
    } finally {
      await server.close();
    }
  });

  it('requires a client certificate from the CA when requestCert is set (mutual TLS)', async () => {
    const tls: ServerTls = { ...certs.server, ca: certs.ca, requestCert: true };
    const server = await startEchoServer({ tls });
    try {
      const withCert = createGrpcClient(RegistryService, server.url, {
        tls: { ca: certs.ca, ...certs.client },
      });
      expect((await withCert.listArtifacts({})).nextPageToken).toBe('grpc');
      const without = createGrpcClient(RegistryService, server.url, { tls: { ca: certs.ca } });
      expect(await codeOfCall(() => without.listArtifacts({}))).toBe(Code.Internal);
    } finally {
      await server.close();
    }
  });
});
