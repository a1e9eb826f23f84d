import { Code, ConnectError } from '@connectrpc/connect';
import { RegistryService } from '@vitrine/proto/registry';
import { createTestCertificateAuthority, type TestKeyPair } from '@vitrine/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createConnectClient, createGrpcClient, type ServerTls } from '../src/index.js';
import { startEchoServer } from './echo-server.js';

/** A throwaway CA with a server and a client certificate, made for this run. */
let certs: { ca: string; server: TestKeyPair; client: TestKeyPair };
beforeAll(async () => {
  const ca = await createTestCertificateAuthority();
  certs = { ca: ca.cert, server: await ca.issue('server'), client: await ca.issue('client') };
});

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
