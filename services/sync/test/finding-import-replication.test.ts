import type { Finding } from '@vitrine/proto/finding';
import { testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upload } from './artifact-io.js';
import { eventually, startTestFederation, type TestFederation } from './federation-harness.js';

/**
 * A SARIF 2.1.0 log (OASIS SARIF 2.1.0 §3.13, §3.14, §3.27) of one run with a result per
 * `[ruleId, fingerprint, line]`.
 */
function sarif(results: readonly [string, string, number][]): Uint8Array {
  const log = {
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'ReplicaScanner' } },
        results: results.map(([ruleId, hash, line]) => ({
          ruleId,
          level: 'error',
          message: { text: `${ruleId} at line ${line}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: 'src/app.c' },
                region: { startLine: line },
              },
            },
          ],
          partialFingerprints: { primaryLocationLineHash: hash },
        })),
      },
    ],
  };
  return new TextEncoder().encode(JSON.stringify(log));
}

async function* importOf(artifactId: string, file: Uint8Array) {
  yield { part: { case: 'start' as const, value: { artifactId } } };
  yield { part: { case: 'data' as const, value: file } };
}

/** Every finding a center holds, by id. */
async function findingsAt(client: TestFederation['centers']['asia']['client']) {
  const { findings } = await client.listFindings({ pageSize: 1000 });
  return [...findings].sort((a: Finding, b: Finding) => a.id.localeCompare(b.id));
}

describe.each(testBackends())('imported findings replicate on $name', (backend) => {
  let f: TestFederation;

  beforeAll(async () => {
    f = await startTestFederation(backend);
  });
  afterAll(() => f.cleanup());

  it('carries created findings, added artifacts, moved locations and candidate fixes to every peer', async () => {
    const { asia, europe, us } = f.centers;
    const v1 = (await europe.client.pushArtifact(upload('1.0', []))).artifact?.id ?? '';
    const v2 =
      (await europe.client.pushArtifact(upload('1.1', [], undefined, { supersedes: v1 }))).artifact
        ?.id ?? '';
    const scan1 = sarif([
      ['r1', 'a', 10],
      ['r2', 'b', 20],
      ['r3', 'c', 30],
    ]);
    expect(await europe.client.importFindings(importOf(v1, scan1))).toMatchObject({ created: 3 });
    const scan2 = sarif([
      ['r1', 'a', 11],
      ['r2', 'b', 20],
    ]);
    expect(await europe.client.importFindings(importOf(v2, scan2))).toMatchObject({
      updated: 2,
      candidateFixes: 1,
    });
    const origin = await findingsAt(europe.client);
    expect(
      origin.map((x) => [x.ruleId, x.locations[0]?.startLine, x.candidateFixArtifactId]),
    ).toEqual([
      ['r1', 11, ''],
      ['r2', 20, ''],
      ['r3', 30, v2],
    ]);
    for (const peer of [asia, us]) {
      const held = await eventually(async () => {
        const found = await findingsAt(peer.client);
        // The candidate fix is the import's last event: once it is here, all of it is.
        return found.some((x) => x.candidateFixArtifactId !== '') ? found : undefined;
      });
      expect(held).toEqual(origin);
    }
  });
});
