import { describe, expect, it } from 'vitest';
import { statementBatcher } from './statement-batcher.js';

describe('statementBatcher', () => {
  it('sends what arrives while a batch is out as the next batch', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const firstHeld = new Promise<void>((resolve) => (release = resolve));
    const batcher = statementBatcher<number, number>(async (keys) => {
      batches.push([...keys]);
      if (batches.length === 1) await firstHeld;
      return keys.map((key) => key * 10);
    });

    const first = batcher.load(1);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[1]]);
    const waiting = [2, 3, 4].map((key) => batcher.load(key));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(batches).toEqual([[1]]);

    release();
    expect(await Promise.all([first, ...waiting])).toEqual([10, 20, 30, 40]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('fails only the key that broke a batch', async () => {
    const batches: number[][] = [];
    const batcher = statementBatcher<number, number>(async (keys) => {
      batches.push([...keys]);
      if (keys.includes(2)) throw new Error('2 breaks a constraint');
      return [...keys];
    });
    const settled = await Promise.allSettled([1, 2, 3].map((key) => batcher.load(key)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({
      message: '2 breaks a constraint',
    });
    expect(batches).toEqual([[1, 2, 3], [1], [2], [3]]);
  });
});
