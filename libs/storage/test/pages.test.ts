import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken, pageSize, paginate } from '../src/index.js';

describe('keyset pages', () => {
  it('round-trips a cursor through an opaque token', () => {
    const token = encodePageToken({ order: 1_764_000_000_000n, id: 'r-0a1b' });
    expect(decodePageToken(token)).toEqual({ order: 1_764_000_000_000n, id: 'r-0a1b' });
    expect(decodePageToken('')).toBeUndefined();
  });

  it('refuses a token it did not make', () => {
    expect(() => decodePageToken(Buffer.from('DROP TABLE').toString('base64url'))).toThrow(
      /page_token: not a token from this API/,
    );
  });

  it('gives a next token only when a row beyond the page was fetched', () => {
    const rows = [1n, 2n, 3n].map((order) => ({ id: `x-${order}`, order }));
    const full = paginate(rows, 2, (r) => r.order);
    expect(full.page.map((r) => r.id)).toEqual(['x-1', 'x-2']);
    expect(decodePageToken(full.nextPageToken)).toEqual({ order: 2n, id: 'x-2' });
    expect(paginate(rows, 3, (r) => r.order).nextPageToken).toBe('');
  });

  it('defaults the page size and caps it', () => {
    expect(pageSize('page_size', 0)).toBe(100);
    expect(pageSize('page_size', 7)).toBe(7);
    expect(() => pageSize('page_size', 1001)).toThrow('page_size: at most 1000');
  });
});
