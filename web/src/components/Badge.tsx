import type { ReactNode } from 'react';

export type Tone = 'neutral' | 'good' | 'bad' | 'warn' | 'info';

export function Badge({ tone = 'neutral', title, children }: { tone?: Tone; title?: string; children: ReactNode }) {
  return <span className={`badge badge-${tone}`} title={title}>{children}</span>;
}

/** Incident and signal severities as tones. */
export const SEVERITY_TONE: Record<string, Tone> = { major: 'bad', critical: 'bad', significant: 'warn', warning: 'warn', minor: 'info', info: 'info' };
