import { Code, ConnectError } from '@connectrpc/connect';
import { Health, HealthCheckResponse_ServingStatus as Status } from '@vitrine/proto/health';
import { RegistryService } from '@vitrine/proto/registry';
import { afterEach, describe, expect, it } from 'vitest';
import { createConnectClient, createGrpcClient } from '../src/index.js';
import { REGISTRY, startEchoServer } from './echo-server.js';

let server: Awaited<ReturnType<typeof startEchoServer>>;
afterEach(() => server.close());

/** Reads a Watch stream one status at a time. */
function watcher(url: string, service: string) {
  const controller = new AbortController();
  const it = createGrpcClient(Health, url)
    .watch({ service }, { signal: controller.signal })
    [Symbol.asyncIterator]();
  return {
    next: async () => {
      const res = await it.next();
      return res.done === true ? 'ended' : res.value.status;
    },
    cancel: () => controller.abort(),
  };
}

async function codeOfCall(call: () => Promise<unknown>): Promise<Code | 'ok'> {
  try {
    await call();
    return 'ok';
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

describe('grpc.health.v1', () => {
  it('reports the server and each named service SERVING, over gRPC and Connect', async () => {
    server = await startEchoServer();
    for (const client of [
      createGrpcClient(Health, server.url),
      createConnectClient(Health, server.url),
    ]) {
      expect((await client.check({})).status).toBe(Status.SERVING);
      expect((await client.check({ service: REGISTRY })).status).toBe(Status.SERVING);
    }
  });

  it('answers NOT_FOUND for a service the server does not host', async () => {
    server = await startEchoServer();
    const client = createGrpcClient(Health, server.url);
    expect(await codeOfCall(() => client.check({ service: 'vitrine.nope.v1.Nope' }))).toBe(
      Code.NotFound,
    );
  });

  it('streams status changes to a watcher', async () => {
    server = await startEchoServer();
    const watch = watcher(server.url, REGISTRY);
    expect(await watch.next()).toBe(Status.SERVING);
    server.health.set(REGISTRY, Status.NOT_SERVING);
    expect(await watch.next()).toBe(Status.NOT_SERVING);
    server.health.set(REGISTRY, Status.SERVING);
    expect(await watch.next()).toBe(Status.SERVING);
    watch.cancel();
  });

  it('tells a watcher of an unknown service SERVICE_UNKNOWN until it appears', async () => {
    server = await startEchoServer();
    const watch = watcher(server.url, 'vitrine.later.v1.Later');
    expect(await watch.next()).toBe(Status.SERVICE_UNKNOWN);
    server.health.set('vitrine.later.v1.Later', Status.SERVING);
    expect(await watch.next()).toBe(Status.SERVING);
    watch.cancel();
  });

  it('reports NOT_SERVING as soon as close starts, then ends the watch', async () => {
    server = await startEchoServer();
    const overall = watcher(server.url, '');
    const registry = watcher(server.url, REGISTRY);
    expect(await overall.next()).toBe(Status.SERVING);
    expect(await registry.next()).toBe(Status.SERVING);
    const closed = server.close();
    expect(server.health.get('')).toBe(Status.NOT_SERVING);
    expect(server.health.get(REGISTRY)).toBe(Status.NOT_SERVING);
    expect(await overall.next()).toBe(Status.NOT_SERVING);
    expect(await registry.next()).toBe(Status.NOT_SERVING);
    expect(await overall.next()).toBe('ended');
    await closed;
    const client = createGrpcClient(Health, server.url);
    expect(await codeOfCall(() => client.check({}))).toBe(Code.Unavailable);
  });
});

describe('close', () => {
  it('lets a stream whose handler honours the shutdown signal end normally', async () => {
    server = await startEchoServer();
    const client = createGrpcClient(RegistryService, server.url);
    const size = 1024 ** 3;
    let bytes = 0;
    let closed: Promise<void> | undefined;
    for await (const res of client.pullArtifact({ id: `size:${size}` })) {
      if (res.part.case === 'data') bytes += res.part.value.byteLength;
      closed ??= server.close();
    }
    await closed;
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(size);
  });

  it('cuts a call that ignores the shutdown signal once the grace period is over', async () => {
    server = await startEchoServer({ shutdownGraceMs: 100 });
    const client = createGrpcClient(RegistryService, server.url);
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* parts() {
      yield { part: { case: 'metadata' as const, value: { product: 'p' } } };
      await held;
    }
    const upload = codeOfCall(() => client.pushArtifact(parts()));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await server.close();
    // The connection is destroyed under the call; an HTTP/2 client reports that as CANCELLED.
    expect(await upload).toBe(Code.Canceled);
    release();
  });
});
