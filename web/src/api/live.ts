/**
 * The live stream (GET /api/projects/:slug/live, src/analytics/live.ts) as a hook: one
 * EventSource per URL, its state for the page to show, and reconnection with exponential backoff
 * (EventSource's own fixed-delay retry is replaced: on any error the source is closed and opened
 * again after 1 s, 2 s, 4 s ... at most 30 s, reset once the server says `ready`).
 */
import { useEffect, useRef, useState } from 'react';
import type { VigilEvent } from './types';

export type StreamState = 'connecting' | 'open' | 'reconnecting';

export interface StreamStatus {
  state: StreamState;
  /** failed attempts since the last successful connection */
  attempts: number;
  /** when the next attempt is due (epoch ms), while reconnecting */
  retryAt: number | null;
}

export interface StreamHandlers {
  onEvents(events: VigilEvent[]): void;
  /** the server left out `n` events because this client fell behind */
  onDropped?(n: number): void;
}

const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;

export function backoffDelay(attempts: number): number {
  const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, attempts - 1));
  // jitter, so many tabs do not come back in step after a restart
  return Math.round(base * (0.75 + Math.random() * 0.25));
}

export function useEventStream(url: string, handlers: StreamHandlers): StreamStatus {
  const [status, setStatus] = useState<StreamStatus>({ state: 'connecting', attempts: 0, retryAt: null });
  const handlersRef = useRef(handlers);
  handlersRef.current = handlers;

  useEffect(() => {
    let source: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempts = 0;
    let stopped = false;
    const connect = () => {
      setStatus({ state: attempts ? 'reconnecting' : 'connecting', attempts, retryAt: null });
      const es = (source = new EventSource(url));
      es.addEventListener('ready', () => {
        attempts = 0;
        setStatus({ state: 'open', attempts: 0, retryAt: null });
      });
      es.addEventListener('events', (m) => handlersRef.current.onEvents(JSON.parse((m as MessageEvent<string>).data) as VigilEvent[]));
      es.addEventListener('dropped', (m) =>
        handlersRef.current.onDropped?.((JSON.parse((m as MessageEvent<string>).data) as { dropped: number }).dropped),
      );
      es.onerror = () => {
        es.close();
        if (stopped) return;
        attempts++;
        const delay = backoffDelay(attempts);
        setStatus({ state: 'reconnecting', attempts, retryAt: Date.now() + delay });
        timer = setTimeout(connect, delay);
      };
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      source?.close();
    };
  }, [url]);

  return status;
}
