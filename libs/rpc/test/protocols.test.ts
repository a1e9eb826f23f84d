import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createGrpcWebTransport } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import {
  ListArtifactsRequestSchema,
  ListArtifactsResponseSchema,
  RegistryService,
} from '@vitrine/proto/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectClient, createGrpcClient, type RunningServer } from '../src/index.js';
import { startEchoServer } from './echo-server.js';

const LIST = '/vitrine.registry.v1.RegistryService/ListArtifacts';
const MiB = 1024 * 1024;

let server: RunningServer;
beforeAll(async () => {
  server = await startEchoServer();
});
afterAll(() => server.close());

/** POSTs JSON over node:http, which only speaks HTTP/1.1. */
function postJson(
  url: string,
  body: unknown,
): Promise<{ version: string; status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
          resolve({ version: res.httpVersion, status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** Sums the data bytes of a PullArtifact stream. */
async function pulledBytes(
  stream: AsyncIterable<{ part: { case: string | undefined; value?: unknown } }>,
) {
  let bytes = 0;
  for await (const res of stream) {
    if (res.part.case === 'data') bytes += (res.part.value as Uint8Array).byteLength;
  }
  return bytes;
}

describe('one port serves every protocol', () => {
  it('answers gRPC over plaintext HTTP/2 (h2c prior knowledge)', async () => {
    const client = createGrpcClient(RegistryService, server.url);
    const res = await client.listArtifacts({ product: 'p1' });
    expect(res.nextPageToken).toBe('grpc');
    expect(res.artifacts[0]?.product).toBe('p1');
  });

  it('answers a grpc-js client, a second gRPC implementation', async () => {
    const client = new grpc.Client(new URL(server.url).host, grpc.credentials.createInsecure());
    const res = await new Promise<Uint8Array>((resolve, reject) => {
      client.makeUnaryRequest(
        LIST,
        (msg: Uint8Array) => Buffer.from(msg),
        (buf: Buffer) => new Uint8Array(buf),
        toBinary(ListArtifactsRequestSchema, create(ListArtifactsRequestSchema, { product: 'p2' })),
        (err, value) => (err ? reject(err) : resolve(value as Uint8Array)),
      );
    });
    client.close();
    const decoded = fromBinary(ListArtifactsResponseSchema, res);
    expect(decoded.nextPageToken).toBe('grpc');
    expect(decoded.artifacts[0]?.product).toBe('p2');
  });

  it('answers the Connect protocol with JSON over HTTP/1.1 (node:http)', async () => {
    const res = await postJson(server.url + LIST, { product: 'p3' });
    expect(res.version).toBe('1.1');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      artifacts: [{ id: 'a1', product: 'p3' }],
      nextPageToken: 'connect',
    });
  });

  it('answers plain curl with a JSON body', async () => {
    const { stdout } = await promisify(execFile)('curl', [
      '-sS',
      '--http1.1',
      '-H',
      'content-type: application/json',
      '-d',
      '{}',
      server.url + LIST,
    ]);
    expect(JSON.parse(stdout)).toEqual({ artifacts: [{ id: 'a1' }], nextPageToken: 'connect' });
  });

  it('answers gRPC-Web over HTTP/1.1 and HTTP/2', async () => {
    for (const httpVersion of ['1.1', '2'] as const) {
      const transport = createGrpcWebTransport({ baseUrl: server.url, httpVersion });
      const res = await createClient(RegistryService, transport).listArtifacts({ product: 'p4' });
      expect(res.nextPageToken).toBe('grpc-web');
      expect(res.artifacts[0]?.product).toBe('p4');
    }
  });

  it('streams a server stream over gRPC, gRPC-Web and Connect', async () => {
    const id = `size:${3 * MiB + 7}`;
    const grpcClient = createGrpcClient(RegistryService, server.url);
    const connectClient = createConnectClient(RegistryService, server.url);
    const web = createClient(
      RegistryService,
      createGrpcWebTransport({ baseUrl: server.url, httpVersion: '1.1', acceptCompression: [] }),
    );
    expect(await pulledBytes(grpcClient.pullArtifact({ id }))).toBe(3 * MiB + 7);
    expect(await pulledBytes(connectClient.pullArtifact({ id }))).toBe(3 * MiB + 7);
    expect(await pulledBytes(web.pullArtifact({ id }))).toBe(3 * MiB + 7);
  });

  it('takes a client stream over gRPC', async () => {
    const client = createGrpcClient(RegistryService, server.url);
    async function* parts() {
      yield { part: { case: 'metadata' as const, value: { product: 'p5' } } };
      for (let i = 0; i < 3; i++)
        yield { part: { case: 'data' as const, value: new Uint8Array(MiB) } };
    }
    const res = await client.pushArtifact(parts());
    expect(res.chunksStored).toBe(3);
  });

  it('does not compress responses even when the client asks for gzip', async () => {
    const res = await fetch(server.url + LIST, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip, br' },
      body: JSON.stringify({ product: 'x'.repeat(4096) }),
    });
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(((await res.json()) as { nextPageToken: string }).nextPageToken).toBe('connect');
  });
});
