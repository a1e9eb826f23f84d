import { FindingStatus, Severity } from '@vitrine/proto/finding';
import { FindingChangeKind, type WatchFindingsResponse } from '@vitrine/proto/registry';
import { testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upload } from './artifact-io.js';
import { startTestFederation, type TestCenter, type TestFederation } from './federation-harness.js';

/** Changes on a live watch at `center`, taken once its first heartbeat has come. */
async function liveWatch(center: TestCenter, stop: AbortSignal) {
  const messages = center.client.watchFindings({}, { signal: stop })[Symbol.asyncIterator]();
  const take = async () => {
    const { value, done } = await messages.next();
    if (done) throw new Error('watch ended');
    return value;
  };
  // Until the first heartbeat: from then on, every change committed reaches this watch.
  for (let message = await take(); message.change; message = await take()) {}
  return async (n: number) => {
    const got: WatchFindingsResponse[] = [];
    while (got.length < n) {
      const message = await take();
      if (message.change) got.push(message);
    }
    return got;
  };
}

describe.each(testBackends())(
  'a finding watch at one center, changes at others, on $name',
  (backend) => {
    let f: TestFederation;
    beforeAll(async () => {
      f = await startTestFederation(backend);
    });
    afterAll(() => f.cleanup());

    it('delivers changes from every origin as the center applies them', async () => {
      const { asia, europe, us } = f.centers;
      const stop = new AbortController();
      const next = await liveWatch(asia, stop.signal);
      const pushed = await europe.client.pushArtifact(upload('everywhere', []));
      const artifactIds = [pushed.artifact?.id ?? ''];
      const created = await europe.client.createFinding({
        artifactIds,
        title: 'Replay window too wide',
        severity: Severity.MEDIUM,
      });
      const id = created.finding?.id ?? '';
      const [first] = await next(1);
      // us updates it once it holds it; asia learns of that from us (or through europe).
      let updated = false;
      while (!updated) {
        updated = await us.client
          .updateFinding({ id, status: FindingStatus.TRIAGED })
          .then(() => true)
          .catch(() => new Promise<false>((resolve) => setTimeout(() => resolve(false), 50)));
      }
      const [second] = await next(1);
      await asia.client.addComment({ findingId: id, text: 'seen here too' });
      const rest = [second, ...(await next(1))];
      stop.abort();
      const got = [first, ...rest].map((m) => [
        m?.change?.origin,
        FindingChangeKind[m?.change?.kind ?? 0],
        m?.change?.finding?.id,
      ]);
      expect(got).toEqual([
        ['europe', 'CREATED', id],
        ['us', 'UPDATED', id],
        ['asia', 'COMMENTED', id],
      ]);
      expect(rest[1]?.change?.finding?.status).toBe(FindingStatus.TRIAGED);
      expect(rest[1]?.change?.finding?.commentCount).toBe(1);
    });
  },
);
