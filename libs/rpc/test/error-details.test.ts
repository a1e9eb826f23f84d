import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import * as grpc from '@grpc/grpc-js';
import { BadRequestSchema } from '@vitrine/proto/error-details';
import {
  ListArtifactsRequestSchema,
  PullArtifactRequestSchema,
  RegistryService,
} from '@vitrine/proto/registry';
import { StatusSchema } from '@vitrine/proto/status';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConnectClient,
  createGrpcClient,
  fieldViolationsOf,
  type RunningServer,
} from '../src/index.js';
import { BAD_FIELDS } from './echo-registry.js';
import { startEchoServer } from './echo-server.js';
import { encodedPull } from './encoded-pull.js';

const SERVICE = '/vitrine.registry.v1.RegistryService';
const MESSAGE = 'invalid request: product: must be lower case; page_size: at most 1000';

let server: RunningServer;
beforeAll(async () => {
  server = await startEchoServer({ encodedStreams: [encodedPull({ yielded: 0, closed: false })] });
});
afterAll(() => server.close());

/** The error a call failed with. */
async function failure(call: () => Promise<unknown>): Promise<ConnectError> {
  try {
    await call();
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error('call succeeded');
}

/** Reads a stream to its end. */
async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream);
}

/** The google.rpc.BadRequest a grpc-js client finds in grpc-status-details-bin. */
function badRequestFromGrpcJs(err: grpc.ServiceError): { field: string; description: string }[] {
  const [bin] = err.metadata.get('grpc-status-details-bin');
  if (!(bin instanceof Buffer)) throw new Error('no grpc-status-details-bin');
  const status = fromBinary(StatusSchema, bin);
  expect(status.code).toBe(Code.InvalidArgument);
  expect(status.message).toBe(MESSAGE);
  return status.details.flatMap((any) => {
    const bad = anyUnpack(any, BadRequestSchema);
    return bad === undefined
      ? []
      : bad.fieldViolations.map(({ field, description }) => ({ field, description }));
  });
}

const EXPECTED_WIRE = BAD_FIELDS.map(({ field, message }) => ({ field, description: message }));

describe('field violations travel as google.rpc.BadRequest details', () => {
  it('from a unary call, to Connect and gRPC clients alike', async () => {
    for (const client of [
      createConnectClient(RegistryService, server.url),
      createGrpcClient(RegistryService, server.url),
    ]) {
      const err = await failure(() => client.listArtifacts({ product: 'fail:fields' }));
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toBe(MESSAGE);
      expect(fieldViolationsOf(err)).toEqual(BAD_FIELDS);
    }
  });

  it('from a unary call, to a grpc-js client', async () => {
    const client = new grpc.Client(new URL(server.url).host, grpc.credentials.createInsecure());
    const request = create(ListArtifactsRequestSchema, { product: 'fail:fields' });
    const err = await new Promise<grpc.ServiceError>((resolve, reject) => {
      client.makeUnaryRequest(
        `${SERVICE}/ListArtifacts`,
        (msg: Uint8Array) => Buffer.from(msg),
        (buf: Buffer) => new Uint8Array(buf),
        toBinary(ListArtifactsRequestSchema, request),
        (e) => (e ? resolve(e) : reject(new Error('call succeeded'))),
      );
    });
    client.close();
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(badRequestFromGrpcJs(err)).toEqual(EXPECTED_WIRE);
  });

  it('from an encoded stream served directly, and through Connect', async () => {
    for (const client of [
      createGrpcClient(RegistryService, server.url),
      createConnectClient(RegistryService, server.url),
    ]) {
      const err = await failure(() => drain(client.pullArtifact({ id: 'fail:fields' })));
      expect(err.code).toBe(Code.InvalidArgument);
      expect(fieldViolationsOf(err)).toEqual(BAD_FIELDS);
    }
  });

  it('from an encoded stream served directly, to a grpc-js client', async () => {
    const client = new grpc.Client(new URL(server.url).host, grpc.credentials.createInsecure());
    const request = create(PullArtifactRequestSchema, { id: 'fail:fields' });
    const call = client.makeServerStreamRequest(
      `${SERVICE}/PullArtifact`,
      (msg: Uint8Array) => Buffer.from(msg),
      (buf: Buffer) => new Uint8Array(buf),
      toBinary(PullArtifactRequestSchema, request),
    );
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      call.on('data', () => {});
      call.on('error', resolve);
    });
    client.close();
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(badRequestFromGrpcJs(err)).toEqual(EXPECTED_WIRE);
  });

  it('only for an invalid request: other codes carry no details', async () => {
    const client = createGrpcClient(RegistryService, server.url);
    const err = await failure(() => client.listArtifacts({ product: 'fail:not_found' }));
    expect(err.code).toBe(Code.NotFound);
    expect(err.details).toEqual([]);
    expect(fieldViolationsOf(err)).toEqual([]);
  });
});
