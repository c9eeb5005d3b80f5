// The binary heap under placement: items come out in order, whatever order they went in.
import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../common/vm/min-heap.ts';

describe('MinHeap', () => {
  it('is empty at first', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    expect([heap.size, heap.peek(), heap.pop()]).toEqual([0, undefined, undefined]);
  });

  it('pops in order, with pushes between pops', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    let x = 12345;
    const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31) % 1000;
    const out: number[] = [];
    const all: number[] = [];
    for (let round = 0; round < 200; round += 1) {
      for (let i = 0; i < 3; i += 1) {
        const value = next();
        all.push(value);
        heap.push(value);
      }
      const top = heap.peek();
      expect(heap.pop()).toBe(top);
      out.push(top as number);
    }
    while (heap.size > 0) out.push(heap.pop() as number);
    expect(out.slice(200)).toEqual([...out.slice(200)].sort((a, b) => a - b));
    expect([...out].sort((a, b) => a - b)).toEqual([...all].sort((a, b) => a - b));
  });
});
