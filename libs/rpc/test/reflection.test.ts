import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { create, createFileRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import { type FileDescriptorProto, FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { Code } from '@connectrpc/connect';
import * as grpc from '@grpc/grpc-js';
import {
  ServerReflection as ReflectionV1,
  ServerReflectionRequestSchema,
  ServerReflectionResponseSchema,
} from '@vitrine/proto/reflection-v1';
import { ServerReflection as ReflectionV1alpha } from '@vitrine/proto/reflection-v1alpha';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrpcClient, type RunningServer } from '../src/index.js';
import { startEchoServer } from './echo-server.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startEchoServer();
});
afterAll(() => server.close());

/** Runs `buf curl` over gRPC with HTTP/2 prior knowledge; it has no local schema, only reflection. */
async function bufCurl(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('npx', [
    '--no-install',
    'buf',
    'curl',
    '--protocol',
    'grpc',
    '--http2-prior-knowledge',
    ...args,
  ]);
  return stdout;
}

const SERVICES = [
  'grpc.health.v1.Health',
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
  'vitrine.registry.v1.RegistryService',
];

describe('buf curl through reflection', () => {
  it('lists every method of every service', async () => {
    const methods = (await bufCurl('--list-methods', server.url)).trim().split('\n');
    expect(methods).toContain('grpc.health.v1.Health/Check');
    expect(methods).toContain('grpc.health.v1.Health/Watch');
    expect(methods).toContain('vitrine.registry.v1.RegistryService/PullArtifact');
    expect(methods).toContain('grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo');
    expect(new Set(methods.map((m) => m.split('/')[0]))).toEqual(new Set(SERVICES));
  });

  it('calls Health/Check', async () => {
    expect(JSON.parse(await bufCurl(`${server.url}/grpc.health.v1.Health/Check`))).toEqual({
      status: 'SERVING',
    });
  });

  it('calls a vitrine method whose messages import well-known types', async () => {
    const out = await bufCurl(
      '-d',
      '{"product":"p"}',
      `${server.url}/vitrine.registry.v1.RegistryService/ListArtifacts`,
    );
    expect(JSON.parse(out)).toEqual({
      artifacts: [{ id: 'a1', product: 'p' }],
      nextPageToken: 'grpc',
    });
  });
});

type Request =
  | { case: 'listServices'; value: string }
  | { case: 'fileByFilename'; value: string }
  | { case: 'fileContainingSymbol'; value: string }
  | { case: 'allExtensionNumbersOfType'; value: string };

/** Sends requests on one reflection stream of the given version and returns the answers. */
async function ask(version: 'v1' | 'v1alpha', requests: Request[]) {
  const service = version === 'v1' ? ReflectionV1 : ReflectionV1alpha;
  const client = createGrpcClient(service, server.url);
  async function* send() {
    for (const messageRequest of requests) yield { host: 'h', messageRequest };
  }
  const answers = [];
  for await (const res of client.serverReflectionInfo(send())) {
    expect(res.validHost).toBe('h');
    answers.push(res.messageResponse);
  }
  return answers;
}

/** File names in a FileDescriptorResponse, in order. */
function fileNames(answer: Awaited<ReturnType<typeof ask>>[number]): string[] {
  if (answer.case !== 'fileDescriptorResponse') throw new Error(`got ${answer.case}`);
  return answer.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name);
}

describe.each(['v1', 'v1alpha'] as const)('server reflection %s', (version) => {
  it('lists the services', async () => {
    const [answer] = await ask(version, [{ case: 'listServices', value: '' }]);
    expect(answer?.case).toBe('listServicesResponse');
    if (answer?.case !== 'listServicesResponse') return;
    expect(answer.value.service.map((s) => s.name)).toEqual(SERVICES);
  });

  it('finds the file of services, methods, messages and nested enums, with imports', async () => {
    const answers = await ask(version, [
      { case: 'fileContainingSymbol', value: 'vitrine.registry.v1.RegistryService' },
      { case: 'fileContainingSymbol', value: 'vitrine.registry.v1.RegistryService.PullArtifact' },
      { case: 'fileContainingSymbol', value: 'vitrine.registry.v1.Artifact' },
      { case: 'fileContainingSymbol', value: 'grpc.health.v1.HealthCheckResponse.ServingStatus' },
      { case: 'fileByFilename', value: 'google/protobuf/timestamp.proto' },
    ]);
    const registry = [
      'vitrine/registry/v1/registry.proto',
      'vitrine/registry/v1/artifact.proto',
      'google/protobuf/timestamp.proto',
      'vitrine/registry/v1/finding.proto',
    ];
    expect(answers.map(fileNames)).toEqual([
      registry,
      registry,
      ['vitrine/registry/v1/artifact.proto', 'google/protobuf/timestamp.proto'],
      ['grpc/health/v1/health.proto'],
      ['google/protobuf/timestamp.proto'],
    ]);
  });

  it('answers with descriptors complete enough to rebuild the schema', async () => {
    const [answer] = await ask(version, [
      { case: 'fileByFilename', value: 'vitrine/registry/v1/registry.proto' },
    ]);
    if (answer?.case !== 'fileDescriptorResponse') throw new Error(`got ${answer?.case}`);
    const files = answer.value.fileDescriptorProto.map((b) =>
      fromBinary(FileDescriptorProtoSchema, b),
    );
    const byName = new Map(files.map((f) => [f.name, f]));
    const [first] = files;
    if (first === undefined) throw new Error('no files');
    const registry = createFileRegistry(first, (name) => byName.get(name));
    const service = registry.getService('vitrine.registry.v1.RegistryService');
    expect(service?.methods.map((m) => m.name)).toContain('PushArtifact');
    expect(
      registry.getMessage('vitrine.registry.v1.Artifact')?.field.publishedAt?.message?.typeName,
    ).toBe('google.protobuf.Timestamp');
  });

  it('reports unknown names as NOT_FOUND and keeps the stream open', async () => {
    const answers = await ask(version, [
      { case: 'fileContainingSymbol', value: 'vitrine.nope.v1.Nope' },
      { case: 'fileByFilename', value: 'nope.proto' },
      { case: 'allExtensionNumbersOfType', value: 'vitrine.nope.v1.Nope' },
      { case: 'allExtensionNumbersOfType', value: 'vitrine.registry.v1.Artifact' },
    ]);
    expect(
      answers.slice(0, 3).map((a) => (a.case === 'errorResponse' ? a.value.errorCode : a.case)),
    ).toEqual([Code.NotFound, Code.NotFound, Code.NotFound]);
    expect(answers[3]).toMatchObject({
      case: 'allExtensionNumbersResponse',
      value: { baseTypeName: 'vitrine.registry.v1.Artifact', extensionNumber: [] },
    });
  });
});

/**
 * Asks for the file declaring `symbol` with grpc-js, a gRPC implementation apart from the
 * server's, over the server's socket: the descriptors as any reflection client gets them.
 */
async function describeWithGrpcJs(symbol: string): Promise<FileDescriptorProto[]> {
  const client = new grpc.Client(new URL(server.url).host, grpc.credentials.createInsecure());
  try {
    const call = client.makeBidiStreamRequest(
      '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
      (msg: Uint8Array) => Buffer.from(msg),
      (buf: Buffer) => fromBinary(ServerReflectionResponseSchema, buf),
    );
    const answer = new Promise<FileDescriptorProto[]>((resolve, reject) => {
      call.on(
        'data',
        (res: ReturnType<typeof fromBinary<typeof ServerReflectionResponseSchema>>) => {
          const response = res.messageResponse;
          if (response.case !== 'fileDescriptorResponse') {
            reject(new Error(`got ${response.case}`));
            return;
          }
          resolve(
            response.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b)),
          );
        },
      );
      call.on('error', reject);
    });
    call.write(
      toBinary(
        ServerReflectionRequestSchema,
        create(ServerReflectionRequestSchema, {
          messageRequest: { case: 'fileContainingSymbol', value: symbol },
        }),
      ),
    );
    call.end();
    return await answer;
  } finally {
    client.close();
  }
}

/** The leading comment of the element at `path` of a file (descriptor.proto numbering). */
function leadingComment(file: FileDescriptorProto, path: number[]): string | undefined {
  return file.sourceCodeInfo?.location.find(
    (l) => l.path.length === path.length && l.path.every((p, i) => p === path[i]),
  )?.leadingComments;
}

describe('reflection serves the protos comments', () => {
  // FileDescriptorProto field numbers: message_type 4, service 6; DescriptorProto.field 2,
  // ServiceDescriptorProto.method 2.
  const MESSAGE = 4;
  const SERVICE = 6;
  const CHILD = 2;

  it('on the service, its methods and the fields of its messages, at their own paths', async () => {
    const [registry] = await describeWithGrpcJs('vitrine.registry.v1.RegistryService');
    if (registry === undefined) throw new Error('no file');
    expect(registry.name).toBe('vitrine/registry/v1/registry.proto');
    const serviceIndex = registry.service.findIndex((s) => s.name === 'RegistryService');
    const service = registry.service[serviceIndex];
    if (service === undefined) throw new Error('no RegistryService');
    expect(leadingComment(registry, [SERVICE, serviceIndex])).toContain(
      "A center's registry of review artifacts and findings.",
    );
    const pull = service.method.findIndex((m) => m.name === 'PullArtifact');
    expect(leadingComment(registry, [SERVICE, serviceIndex, CHILD, pull])).toContain(
      'Downloads an artifact',
    );
    // A field's comment sits at the path of that very field in the served descriptor.
    const metaIndex = registry.messageType.findIndex((m) => m.name === 'PushArtifactMetadata');
    const digest = registry.messageType[metaIndex]?.field.findIndex(
      (f) => f.name === 'expected_digest',
    );
    if (digest === undefined || digest < 0) throw new Error('no expected_digest');
    expect(leadingComment(registry, [MESSAGE, metaIndex, CHILD, digest])).toContain('DATA_LOSS');
  });

  it('on every element of every vitrine file', async () => {
    const files = await describeWithGrpcJs('vitrine.registry.v1.RegistryService');
    const vitrine = files.filter((f) => f.name.startsWith('vitrine/'));
    expect(vitrine.map((f) => f.name).sort()).toEqual([
      'vitrine/registry/v1/artifact.proto',
      'vitrine/registry/v1/finding.proto',
      'vitrine/registry/v1/registry.proto',
    ]);
    for (const file of vitrine) {
      file.messageType.forEach((message, m) => {
        expect(leadingComment(file, [MESSAGE, m]), message.name).toMatch(/\S/);
        message.field.forEach((field, f) => {
          const comment = leadingComment(file, [MESSAGE, m, CHILD, f]);
          expect(comment, `${message.name}.${field.name}`).toMatch(/\S/);
        });
      });
    }
  });
});
