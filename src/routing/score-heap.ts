/**
 * A binary heap of (id, score) pairs on parallel number arrays. `order: 'min'` keeps the lowest
 * score on top (a bounded result set whose worst member is evicted first); `order: 'max'` the
 * highest (the next candidate to expand).
 */
export class ScoreHeap {
  readonly #sign: number;
  #ids: number[] = [];
  #keys: number[] = [];

  constructor(order: 'min' | 'max') {
    this.#sign = order === 'min' ? 1 : -1;
  }

  get size(): number {
    return this.#ids.length;
  }

  clear(): void {
    this.#ids.length = 0;
    this.#keys.length = 0;
  }

  /** The id on top; undefined when empty. */
  peekId(): number | undefined {
    return this.#ids[0];
  }

  /** The score on top; undefined when empty. */
  peekScore(): number | undefined {
    const key = this.#keys[0];
    return key === undefined ? undefined : key * this.#sign;
  }

  push(id: number, score: number): void {
    const ids = this.#ids;
    const keys = this.#keys;
    const key = score * this.#sign;
    let index = ids.length;
    ids.push(id);
    keys.push(key);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (keys[parent]! <= key) break;
      ids[index] = ids[parent]!;
      keys[index] = keys[parent]!;
      index = parent;
    }
    ids[index] = id;
    keys[index] = key;
  }

  /** Removes the top; returns its id. */
  pop(): number | undefined {
    const ids = this.#ids;
    const keys = this.#keys;
    if (ids.length === 0) return undefined;
    const top = ids[0]!;
    const lastId = ids.pop()!;
    const lastKey = keys.pop()!;
    const size = ids.length;
    if (size > 0) {
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        if (left >= size) break;
        const right = left + 1;
        const child = right < size && keys[right]! < keys[left]! ? right : left;
        if (keys[child]! >= lastKey) break;
        ids[index] = ids[child]!;
        keys[index] = keys[child]!;
        index = child;
      }
      ids[index] = lastId;
      keys[index] = lastKey;
    }
    return top;
  }

  /** Empties the heap into (id, score) pairs, best first for a 'min' heap of results. */
  drainDescending(): { id: number; score: number }[] {
    const out: { id: number; score: number }[] = [];
    while (this.size > 0) {
      const score = this.peekScore()!;
      out.push({ id: this.pop()!, score });
    }
    return this.#sign === 1 ? out.reverse() : out;
  }
}
