import crypto from 'node:crypto';

/** A visitor's session ends after this much inactivity (the convention of most analytics tools). */
export const SESSION_GAP_MS = 30 * 60 * 1000;

/**
 * Assigns session ids to events that come without one, per (project, distinct id), by inactivity.
 * State is in memory: after a restart an active visitor starts a new session.
 */
export class SessionTracker {
  private last = new Map<string, { id: string; at: number }>();
  private sweepAt = 0;

  sessionFor(projectId: number, distinctId: string, timestamp: number): string {
    const key = `${projectId}|${distinctId}`;
    const current = this.last.get(key);
    if (current && Math.abs(timestamp - current.at) <= SESSION_GAP_MS) {
      if (timestamp > current.at) current.at = timestamp;
      return current.id;
    }
    const id = 's_' + crypto.createHash('sha1').update(`${key}|${timestamp}`).digest('base64url').slice(0, 16);
    this.last.set(key, { id, at: timestamp });
    this.sweep(timestamp);
    return id;
  }

  private sweep(now: number) {
    if (now - this.sweepAt < SESSION_GAP_MS || this.last.size < 10_000) return;
    this.sweepAt = now;
    for (const [key, s] of this.last) if (now - s.at > SESSION_GAP_MS) this.last.delete(key);
  }
}
