import { describe, expect, it } from 'vitest';
import { canReleaseMemory, releaseMemory, SharedRelease } from '../src/release-memory.js';

describe('releaseMemory', () => {
  it('is able to free memory where vitrine runs (tests run with the services’ flags)', () => {
    expect(canReleaseMemory).toBe(true);
  });

  it('frees a buffer at once: every view of it reads as empty', () => {
    const buffer = new ArrayBuffer(1 << 20);
    const whole = new Uint8Array(buffer);
    const part = whole.subarray(10, 20);
    whole.fill(7);
    releaseMemory(buffer);
    expect(buffer.byteLength).toBe(0);
    expect(whole.byteLength).toBe(0);
    expect(part.byteLength).toBe(0);
    expect(part[0]).toBeUndefined();
    // Released twice: nothing more happens.
    releaseMemory(buffer);
    expect(buffer.byteLength).toBe(0);
  });

  it('leaves shared memory alone', () => {
    const shared = new SharedArrayBuffer(64);
    releaseMemory(shared);
    expect(shared.byteLength).toBe(64);
  });
});

describe('SharedRelease', () => {
  it('frees the buffer once the owner and every part taken have let go, whatever the order', () => {
    const buffer = new ArrayBuffer(4096);
    const view = new Uint8Array(buffer).fill(1);
    const memory = new SharedRelease(buffer);
    const first = memory.take();
    const second = memory.take();
    memory.close();
    first();
    // A part let go twice counts once: `second` still holds the buffer.
    first();
    memory.close();
    expect(view[0]).toBe(1);
    second();
    expect(buffer.byteLength).toBe(0);
  });

  it('frees at close when no part was taken or all were let go before', () => {
    const untouched = new ArrayBuffer(16);
    new SharedRelease(untouched).close();
    expect(untouched.byteLength).toBe(0);

    const buffer = new ArrayBuffer(16);
    const memory = new SharedRelease(buffer);
    memory.take()();
    expect(buffer.byteLength).toBe(16);
    memory.close();
    expect(buffer.byteLength).toBe(0);
  });

  it('never frees a buffer a part still holds', () => {
    const buffer = new ArrayBuffer(16);
    const memory = new SharedRelease(buffer);
    memory.take();
    memory.close();
    expect(buffer.byteLength).toBe(16);
  });
});
