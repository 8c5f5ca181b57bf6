/**
 * Failed sign-ins counted per (email, address) pair, in memory. Locking the account itself would
 * let anyone lock its owner out by failing five times; locking the pair stops guessing from that
 * address while the owner signs in from theirs. An email with no account is counted the same way,
 * so a lock says nothing about which accounts exist. (Guessing from many addresses is what the
 * per-address sign-in rate limit is for.)
 */
export interface SignInLockoutOptions {
  /** failures in a row that lock the pair */
  failures: number;
  lockMs: number;
  now: () => number;
  /** pairs remembered at most; past it the least recently failed pair is forgotten */
  maxPairs?: number;
}

interface Pair {
  failures: number;
  lockedUntil: number;
  lastFailureAt: number;
}

/** About 10 MB at most. */
const DEFAULT_MAX_PAIRS = 100_000;

export class SignInLockout {
  private readonly pairs = new Map<string, Pair>();

  constructor(private readonly opts: SignInLockoutOptions) {}

  private static key(email: string, address: string) {
    return `${email}\n${address}`;
  }

  /** Milliseconds the pair stays locked (0: not locked). */
  lockedFor(email: string, address: string): number {
    const pair = this.pairs.get(SignInLockout.key(email, address));
    return pair ? Math.max(0, pair.lockedUntil - this.opts.now()) : 0;
  }

  /** Counts a failure; returns how long the pair is now locked (0 when this failure did not lock it). */
  fail(email: string, address: string): number {
    const key = SignInLockout.key(email, address);
    const now = this.opts.now();
    const previous = this.pairs.get(key);
    // failures older than a lock's length are forgotten, as a lock would be
    const failures = previous && now - previous.lastFailureAt < this.opts.lockMs ? previous.failures + 1 : 1;
    const locks = failures >= this.opts.failures;
    this.pairs.delete(key);
    this.pairs.set(key, { failures: locks ? 0 : failures, lockedUntil: locks ? now + this.opts.lockMs : 0, lastFailureAt: now });
    if (this.pairs.size > (this.opts.maxPairs ?? DEFAULT_MAX_PAIRS)) this.pairs.delete(this.pairs.keys().next().value as string);
    return locks ? this.opts.lockMs : 0;
  }

  succeed(email: string, address: string): void {
    this.pairs.delete(SignInLockout.key(email, address));
  }

  /** Per email, when its latest lock (from any address) ends: only emails locked now. */
  lockedEmails(): Map<string, number> {
    const now = this.opts.now();
    const out = new Map<string, number>();
    for (const [key, pair] of this.pairs) {
      if (pair.lockedUntil <= now) continue;
      const email = key.slice(0, key.indexOf('\n'));
      out.set(email, Math.max(out.get(email) ?? 0, pair.lockedUntil));
    }
    return out;
  }

  /** Forgets an email's failures and locks from every address (an admin's unlock). */
  unlock(email: string): void {
    const prefix = SignInLockout.key(email, '');
    for (const key of [...this.pairs.keys()]) if (key.startsWith(prefix)) this.pairs.delete(key);
  }
}
