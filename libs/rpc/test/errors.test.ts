import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { codeToString } from '@connectrpc/connect/protocol-connect';
import { type ErrorCode, VitrineError } from '@vitrine/errors';
import { RegistryService } from '@vitrine/proto/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  codeName,
  codeOf,
  createConnectClient,
  createGrpcClient,
  grpcCodeFor,
} from '../src/index.js';
import { SECRET_CAUSE } from './echo-registry.js';
import { startEchoServer } from './echo-server.js';

const EXPECTED: [ErrorCode, Code][] = [
  ['invalid_argument', Code.InvalidArgument],
  ['not_found', Code.NotFound],
  ['already_exists', Code.AlreadyExists],
  ['failed_precondition', Code.FailedPrecondition],
  ['data_loss', Code.DataLoss],
  ['unauthenticated', Code.Unauthenticated],
  ['permission_denied', Code.PermissionDenied],
  ['resource_exhausted', Code.ResourceExhausted],
  ['unavailable', Code.Unavailable],
  ['internal', Code.Internal],
];

let server: Awaited<ReturnType<typeof startEchoServer>>;
beforeAll(async () => {
  server = await startEchoServer();
});
afterAll(() => server.close());

/** Runs a call that must fail and returns its error as a ConnectError. */
async function failure(call: () => Promise<unknown>): Promise<ConnectError> {
  try {
    await call();
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectError);
    return err as ConnectError;
  }
  throw new Error('call succeeded');
}

async function drain(stream: AsyncIterable<unknown>): Promise<number> {
  let count = 0;
  for await (const _ of stream) count++;
  return count;
}

async function* pushParts(text: string) {
  yield { part: { case: 'metadata' as const, value: { product: 'p' } } };
  yield { part: { case: 'data' as const, value: new Uint8Array(8) } };
  yield { part: { case: 'data' as const, value: new TextEncoder().encode(text) } };
}

describe('domain errors become gRPC statuses', () => {
  const grpc = () => createGrpcClient(RegistryService, server.url);
  const connect = () => createConnectClient(RegistryService, server.url);

  it.each(EXPECTED)(
    '%s → %s from a unary handler, over gRPC and Connect',
    async (code, expected) => {
      for (const client of [grpc(), connect()]) {
        const err = await failure(() => client.listArtifacts({ product: `fail:${code}` }));
        expect(err.code).toBe(expected);
        expect(err.rawMessage).toBe(`failing with ${code}`);
        expect(codeOf(err)).toBe(expected);
      }
    },
  );

  it.each(EXPECTED)('%s → %s while yielding a response stream', async (code, expected) => {
    let received = 0;
    const err = await failure(async () => {
      for await (const _ of grpc().pullArtifact({ id: `fail:${code}` })) received++;
    });
    expect(err.code).toBe(expected);
    expect(err.rawMessage).toBe(`failing with ${code}`);
    expect(received).toBe(1);
  });

  it.each(EXPECTED)('%s → %s while reading a request stream', async (code, expected) => {
    const err = await failure(() => grpc().pushArtifact(pushParts(`fail:${code}`)));
    expect(err.code).toBe(expected);
    expect(err.rawMessage).toBe(`failing with ${code}`);
  });

  it('sends an unexpected error as INTERNAL "internal error" and only logs its cause', async () => {
    const calls = [
      () => grpc().listArtifacts({ product: 'fail:unexpected' }),
      () => connect().listArtifacts({ product: 'fail:unexpected' }),
      () => drain(grpc().pullArtifact({ id: 'fail:unexpected' })),
      () => grpc().pushArtifact(pushParts('fail:unexpected')),
    ];
    for (const call of calls) {
      const err = await failure(call);
      expect(err.code).toBe(Code.Internal);
      expect(err.rawMessage).toBe('internal error');
      expect(JSON.stringify([err.message, [...err.metadata], err.details])).not.toContain(
        'hunter2',
      );
    }
    const logged = server
      .logs()
      .filter((line) => line.level === 50 && JSON.stringify(line).includes(SECRET_CAUSE));
    expect(logged).toHaveLength(calls.length);
  });

  it('never sends the cause of a domain error', async () => {
    const err = await failure(() => grpc().listArtifacts({ product: 'fail:data_loss' }));
    expect(err.code).toBe(Code.DataLoss);
    expect(JSON.stringify([err.message, [...err.metadata]])).not.toContain('hunter2');
  });

  it('lets ConnectErrors through unchanged', async () => {
    const err = await failure(() => grpc().getArtifact({ id: 'x' }));
    expect(err.code).toBe(Code.Unimplemented);
    expect(err.rawMessage).toBe(
      'vitrine.registry.v1.RegistryService.GetArtifact is not implemented',
    );
  });

  it('maps domain errors thrown by a service interceptor', async () => {
    const deny: Interceptor = () => () => {
      throw new VitrineError('unauthenticated', 'missing credential');
    };
    const guarded = await startEchoServer({ interceptors: [deny] });
    try {
      const client = createGrpcClient(RegistryService, guarded.url);
      const err = await failure(() => client.listArtifacts({}));
      expect(err.code).toBe(Code.Unauthenticated);
      expect(err.rawMessage).toBe('missing credential');
      const streamErr = await failure(() => drain(client.pullArtifact({ id: 'size:1' })));
      expect(streamErr.code).toBe(Code.Unauthenticated);
    } finally {
      await guarded.close();
    }
  });

  it('spells each domain code as Connect spells the status it maps to (snake_case)', () => {
    for (const [code, expected] of EXPECTED) {
      expect(codeToString(grpcCodeFor(code))).toBe(code);
      expect(grpcCodeFor(code)).toBe(expected);
    }
  });

  it('names codes the way gRPC tools print them', () => {
    expect(codeName(Code.NotFound)).toBe('NOT_FOUND');
    expect(codeName(Code.DataLoss)).toBe('DATA_LOSS');
    expect(codeName(Code.InvalidArgument)).toBe('INVALID_ARGUMENT');
    expect(codeName(Code.Canceled)).toBe('CANCELLED');
    expect(codeName(0)).toBe('OK');
    expect(codeOf(new Error('x'))).toBe(Code.Unknown);
  });
});

describe('message size limit', () => {
  it('refuses a request over readMaxBytes with RESOURCE_EXHAUSTED', async () => {
    const small = await startEchoServer({ readMaxBytes: 1024 });
    try {
      const big = 'x'.repeat(2048);
      for (const client of [
        createGrpcClient(RegistryService, small.url),
        createConnectClient(RegistryService, small.url),
      ]) {
        const err = await failure(() => client.listArtifacts({ product: big }));
        expect(err.code).toBe(Code.ResourceExhausted);
        const ok = await client.listArtifacts({ product: 'x'.repeat(512) });
        expect(ok.artifacts[0]?.product).toHaveLength(512);
      }
      const streamErr = await failure(() =>
        drain(createGrpcClient(RegistryService, small.url).pullArtifact({ id: big })),
      );
      expect(streamErr.code).toBe(Code.ResourceExhausted);
    } finally {
      await small.close();
    }
  });

  it('defaults to 4 MiB', async () => {
    const client = createGrpcClient(RegistryService, server.url);
    const err = await failure(() =>
      client.listArtifacts({ product: 'x'.repeat(4 * 1024 * 1024 + 1) }),
    );
    expect(err.code).toBe(Code.ResourceExhausted);
  });
});
