import { describe, expect, it } from 'vitest';
import { formatTlogProof, LogError, parseTlogProof } from '../src/index.js';

// The C2SP tlog-proof example's shape (c2sp.org/tlog-proof), with a checkpoint of our own.
const checkpoint =
  'example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\n— example.com/fancylog hI2DJwAAAAAAAAAA\n';
const hashes = [
  'gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=',
  'B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=',
];

describe('C2SP tlog-proof', () => {
  it('reads the spec’s layout and writes it back byte for byte', () => {
    const text = `c2sp.org/tlog-proof@v1\nextra YWdlLXYxLjIuMQ==\nindex 73894\n${hashes.join('\n')}\n\n${checkpoint}`;
    const proof = parseTlogProof(text);
    expect(proof.index).toBe(73894);
    expect(Buffer.from(proof.extra ?? []).toString()).toBe('age-v1.2.1');
    expect(proof.proof.map((h) => Buffer.from(h).toString('base64'))).toEqual(hashes);
    expect(proof.checkpoint).toBe(checkpoint);
    expect(formatTlogProof(proof)).toBe(text);
    const bare = { index: 0, proof: [], checkpoint };
    expect(parseTlogProof(formatTlogProof(bare))).toEqual({ ...bare, extra: undefined });
  });

  it('refuses malformed proofs', () => {
    const good = `c2sp.org/tlog-proof@v1\nindex 5\n${hashes[0]}\n\n${checkpoint}`;
    const bad = [
      good.replace('@v1', '@v2'),
      good.replace('index 5', 'index 05'),
      good.replace('index 5', 'index -1'),
      good.replace(hashes[0] as string, 'AAAA'),
      good.replace('\n\n', '\n'),
      good.replace('index 5', 'extra !!\nindex 5'),
      `c2sp.org/tlog-proof@v1\nindex 5\n\nnot a note\n`,
    ];
    for (const text of bad) expect(() => parseTlogProof(text), text).toThrow(LogError);
  });
});
