/**
 * Remembers which (project, messageId) pairs were accepted, so a retried message is stored once.
 *
 * Keys are 63-bit hashes in open-addressing tables (8 bytes a slot), two generations: when the
 * current generation is older than the window it becomes the previous one and the old previous
 * is dropped, so every key is remembered for at least one window and at most two. At start-up the
 * index is rebuilt from the event store (events received within the window). A false "seen"
 * needs a 63-bit collision: about 1 in 10^5 over 10 million keys.
 */
class HashTable {
  private hi: Uint32Array;
  private lo: Uint32Array;
  size = 0;
  constructor(capacity = 1 << 16) {
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
  }
  private slot(hi: number, lo: number): number {
    const mask = this.hi.length - 1;
    let i = lo & mask;
    while (this.hi[i] !== 0 && (this.hi[i] !== hi || this.lo[i] !== lo)) i = (i + 1) & mask;
    return i;
  }
  has(hi: number, lo: number): boolean {
    return this.hi[this.slot(hi, lo)] !== 0;
  }
  /** Returns false when the key was present already. */
  add(hi: number, lo: number): boolean {
    const i = this.slot(hi, lo);
    if (this.hi[i] !== 0) return false;
    this.hi[i] = hi;
    this.lo[i] = lo;
    if (++this.size * 2 > this.hi.length) this.grow();
    return true;
  }
  delete(hi: number, lo: number) {
    const i = this.slot(hi, lo);
    if (this.hi[i] === 0) return;
    // re-insert the rest of the probe run so lookups past the hole still succeed
    this.hi[i] = 0;
    this.size--;
    const mask = this.hi.length - 1;
    for (let j = (i + 1) & mask; this.hi[j] !== 0; j = (j + 1) & mask) {
      const h = this.hi[j],
        l = this.lo[j];
      this.hi[j] = 0;
      this.size--;
      this.add(h, l);
    }
  }
  private grow() {
    const { hi, lo } = this;
    this.hi = new Uint32Array(hi.length * 2);
    this.lo = new Uint32Array(lo.length * 2);
    this.size = 0;
    for (let i = 0; i < hi.length; i++) if (hi[i] !== 0) this.add(hi[i], lo[i]);
  }
}

export class DedupIndex {
  private current = new HashTable();
  private previous = new HashTable();
  private generationStart: number;

  constructor(
    private windowMs: number,
    private now: () => number = Date.now,
  ) {
    this.generationStart = now();
  }

  /**
   * Two 32-bit multiplicative hash lanes (cyrb53's mixing, kept at 64 bits): ten times cheaper
   * than a cryptographic digest on the ingest path. Not collision-resistant against an attacker,
   * who would need the project's ingest key to cause anything (their own events being dropped).
   */
  private static key(projectId: number, messageId: string): [number, number] {
    let h1 = 0xdeadbeef ^ projectId,
      h2 = 0x41c6ce57 ^ projectId;
    for (let i = 0; i < messageId.length; i++) {
      const ch = messageId.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    // the high bit is set so that 0 can mark an empty slot
    return [(h1 | 0x80000000) >>> 0, h2 >>> 0];
  }

  /** Records the pair; returns false if it was seen before. */
  add(projectId: number, messageId: string): boolean {
    this.rotateIfDue();
    const [hi, lo] = DedupIndex.key(projectId, messageId);
    if (this.previous.has(hi, lo)) return false;
    return this.current.add(hi, lo);
  }

  /** Forgets a pair (its write failed, so a retry must be accepted). */
  remove(projectId: number, messageId: string) {
    const [hi, lo] = DedupIndex.key(projectId, messageId);
    this.current.delete(hi, lo);
    this.previous.delete(hi, lo);
  }

  get size() {
    return this.current.size + this.previous.size;
  }

  /**
   * Generations start at whole windows from the first, however late the call that rotates them:
   * a key added in [g, g + window) is dropped at g + 2 windows, also after an idle spell.
   */
  private rotateIfDue() {
    const windows = Math.floor((this.now() - this.generationStart) / this.windowMs);
    if (windows < 1) return;
    this.previous = windows === 1 ? this.current : new HashTable();
    this.current = new HashTable();
    this.generationStart += windows * this.windowMs;
  }
}
