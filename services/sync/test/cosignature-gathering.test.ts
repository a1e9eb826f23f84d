import { LogService } from '@vitrine/proto/log';
import { witnessKey } from '@vitrine/registry';
import { createGrpcClient } from '@vitrine/rpc';
import { testBackends } from '@vitrine/testing';
import { noteKey, verifyCosignedCheckpoint } from '@vitrine/tlog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upload } from './artifact-io.js';
import { startTestFederation, type TestFederation } from './federation-harness.js';

const pause = (ms: number) => new Promise<true>((resolve) => setTimeout(() => resolve(true), ms));

describe.each(testBackends())('centers gathering cosignatures on $name', (backend) => {
  let fed: TestFederation;

  beforeAll(async () => {
    fed = await startTestFederation(backend, { witnessing: { quorum: 2 } });
  });
  afterAll(() => fed?.cleanup());

  /** europe's latest checkpoint once it carries `cosigners` cosignatures at `size` or more. */
  async function europeCheckpoint(size: number, cosigners: number) {
    const log = createGrpcClient(LogService, fed.centers.europe.registry.url);
    let res = await log.getCheckpoint({});
    while ((res.treeSize < size || res.cosigners.length < cosigners) && (await pause(50))) {
      res = await log.getCheckpoint({});
    }
    return res;
  }

  /** Grows europe's log by one event: an artifact published there. */
  async function publishAtEurope(version: string) {
    await fed.centers.europe.client.pushArtifact(upload(version, []));
  }

  function policy(quorum: number) {
    const { asia, europe, us } = fed.centers;
    return {
      log: noteKey('test/europe', europe.key.publicKey),
      witnesses: [asia, us].map((c) => witnessKey('test', c.id, c.key.publicKey)),
      quorum,
    };
  }

  it('has both peers’ witnesses cosign the checkpoint: final at a quorum of 2', async () => {
    const res = await europeCheckpoint(0, 2);
    expect(res).toMatchObject({
      cosigners: ['test/asia/witness', 'test/us/witness'],
      cosignatureCount: 2,
      quorum: 2,
      final: true,
    });
    const verified = await verifyCosignedCheckpoint(res.checkpoint, policy(2));
    expect(verified.checkpoint.size).toBe(Number(res.treeSize));
  });

  it('gets the next checkpoints cosigned after its sync service restarts, learning old sizes', async () => {
    await fed.centers.europe.stopSync();
    const before = Number((await europeCheckpoint(0, 0)).treeSize);
    await publishAtEurope('after-restart');
    const unsigned = await europeCheckpoint(before + 1, 0);
    expect(unsigned).toMatchObject({ cosigners: [], final: false });
    await fed.centers.europe.startSync();
    const res = await europeCheckpoint(before + 1, 2);
    expect(res.final).toBe(true);
    await verifyCosignedCheckpoint(res.checkpoint, policy(2));
  });
});
