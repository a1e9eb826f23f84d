import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePortBlock } from '../src/free-port.js';

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('freePortBlock', () => {
  it('gives a block below the ephemeral range whose every port can be listened on', async () => {
    const base = await freePortBlock(40);
    expect(base).toBeGreaterThanOrEqual(20_000);
    expect(base + 40).toBeLessThanOrEqual(32_768);
    const servers = await Promise.all(Array.from({ length: 40 }, (_, i) => listen(base + i)));
    await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  });

  it('never gives a block with a port someone already listens on', async () => {
    // Hold every fourth port of a small range: no block of 8 in it is then free, one of 3 is.
    const range = { from: 31_000, to: 31_096 };
    const held: Server[] = [];
    for (let port = range.from; port < range.to; port += 4) {
      held.push(await listen(port).catch(() => createServer()));
    }
    try {
      await expect(freePortBlock(8, range)).rejects.toThrow(/no 8 consecutive free ports/);
      const base = await freePortBlock(3, range);
      expect(base % 4).toBe(1);
      expect(base + 3).toBeLessThanOrEqual(range.to);
    } finally {
      await Promise.all(
        held.map((s) => new Promise((done) => (s.listening ? s.close(done) : done(null)))),
      );
    }
  });
});
