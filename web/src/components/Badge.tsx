import type { ReactNode } from 'react';
import type { Severity } from '../../../src/detect/severity';

export type Tone = 'neutral' | 'good' | 'bad' | 'warn' | 'info';

export function Badge({ tone = 'neutral', title, children }: { tone?: Tone; title?: string; children: ReactNode }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

/** Rule, signal and incident severities (one vocabulary, src/detect/severity.ts) as tones. */
export const SEVERITY_TONE: Record<string, Tone> = { info: 'info', warning: 'warn', critical: 'bad' } satisfies Record<Severity, Tone>;
