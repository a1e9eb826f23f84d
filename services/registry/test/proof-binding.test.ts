import { ConnectError } from '@connectrpc/connect';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { startTestTrust, type TestTrust, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureHeaders, replayingClient } from './captured-headers.js';
import {
  download,
  randomContent,
  startTestRegistry,
  type TestRegistry,
  uploadOf,
} from './harness.js';

const meta = (product: string) => ({ kind: ArtifactKind.SOURCE, product, version: '1' });

/** The refusal a call ended with, as code and message. */
const refusalOf = (call: Promise<unknown>) =>
  call.then(
    () => 'OK',
    (e: unknown) => {
      const err = ConnectError.from(e);
      return { code: err.code, message: err.rawMessage };
    },
  );

describe.each(testBackends())('a proof binds its center and its request, on $name', (backend) => {
  let trust: TestTrust;
  let europe: TestRegistry;
  let asia: TestRegistry;
  let first = '';
  let second = '';

  beforeAll(async () => {
    trust = await startTestTrust(['europe', 'asia']);
    europe = await startTestRegistry(backend, {}, { trust });
    asia = await startTestRegistry(
      backend,
      {},
      { trust, center: { id: 'asia', jurisdiction: 'APAC' } },
    );
    const push = async (product: string) =>
      (await europe.client.pushArtifact(uploadOf(meta(product), randomContent(3_000)))).artifact
        ?.id ?? '';
    first = await push('first');
    second = await push('second');
  });
  afterAll(async () => {
    await europe?.cleanup();
    await asia?.cleanup();
    await trust?.close();
  });

  it('refuses at asia a push captured on its way to europe, and stores nothing', async () => {
    const { headers } = await captureHeaders(
      europe.registry.url,
      trust.operatorAuth('europe'),
      (client) => client.pushArtifact(uploadOf(meta('genuine'), randomContent(100))),
      false,
    );
    const attacker = replayingClient(asia.registry.url, headers);
    // The same metadata with other content: refused for the center it names.
    const same = attacker.pushArtifact(uploadOf(meta('genuine'), randomContent(2_000)));
    expect(await refusalOf(same)).toEqual({
      code: 16,
      message: 'proof of possession is for europe, not asia',
    });
    // Other metadata: the signature does not cover it (checked before the center).
    const planted = attacker.pushArtifact(uploadOf(meta('planted'), randomContent(2_000)));
    expect(await refusalOf(planted)).toEqual({
      code: 16,
      message: 'proof of possession is not valid',
    });
    expect((await asia.client.listArtifacts({})).artifacts).toEqual([]);
  });

  it('refuses at asia a read captured on its way to europe', async () => {
    const { headers } = await captureHeaders(
      europe.registry.url,
      trust.operatorAuth('europe'),
      (client) => client.listArtifacts({}),
      false,
    );
    expect(await refusalOf(replayingClient(asia.registry.url, headers).listArtifacts({}))).toEqual({
      code: 16,
      message: 'proof of possession is for europe, not asia',
    });
  });

  it('binds a pull to the artifact it names: a proof to pull one does not pull another', async () => {
    const { headers } = await captureHeaders(
      europe.registry.url,
      trust.operatorAuth('europe'),
      (client) => download(client, first),
      false,
    );
    const attacker = replayingClient(europe.registry.url, headers);
    expect(await refusalOf(download(attacker, second))).toEqual({
      code: 16,
      message: 'proof of possession is not valid',
    });
    // The captured proof itself was good: it pulls the artifact it was made for, once.
    expect((await download(attacker, first)).bytes.length).toBe(3_000);
  });

  it('binds a push to its metadata: a proof for one upload does not carry another', async () => {
    const content = randomContent(1_000);
    const { headers } = await captureHeaders(
      europe.registry.url,
      trust.operatorAuth('europe'),
      (client) => client.pushArtifact(uploadOf(meta('intended'), content)),
      false,
    );
    const attacker = replayingClient(europe.registry.url, headers);
    expect(await refusalOf(attacker.pushArtifact(uploadOf(meta('swapped'), content)))).toEqual({
      code: 16,
      message: 'proof of possession is not valid',
    });
    const products = (await europe.client.listArtifacts({})).artifacts.map((a) => a.product);
    expect(products).not.toContain('swapped');
    // The captured proof itself was good: it uploads the metadata it was made for.
    const pushed = await attacker.pushArtifact(uploadOf(meta('intended'), content));
    expect(pushed.artifact?.product).toBe('intended');
  });
});
