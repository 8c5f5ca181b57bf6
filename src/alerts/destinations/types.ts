import type { AlertMessage } from '../message.js';
import type { OutboundHttp } from '../outbound.js';

export const DESTINATION_KINDS = ['webhook', 'slack', 'telegram', 'email', 'jira', 'linear', 'pagerduty', 'teams'] as const;
export type DestinationKind = (typeof DESTINATION_KINDS)[number];

/** A destination as a driver sees it: settings and (decrypted) secrets, validated by the driver. */
export interface Destination {
  id: number;
  projectId: number;
  name: string;
  kind: DestinationKind;
  config: Record<string, unknown>;
  secrets: Record<string, string>;
}

/** What the receiver answered. */
export interface SendResult {
  ok: boolean;
  /** the HTTP status (or SMTP code) of the last request; null when none was answered */
  status: number | null;
  /** the start of the receiver's answer, for the delivery log and "send test" */
  body: string;
  error?: string;
  /** worth another attempt (5xx, 429, timeouts, connection errors); 4xx and bad settings are not */
  retryable: boolean;
  /** what the receiver calls the thing it made: Jira issue key, Linear issue id, PagerDuty dedup key */
  externalId?: string;
  /** nothing to do for this event (e.g. Jira on "resolved") */
  skipped?: boolean;
}

export interface SendContext {
  http: OutboundHttp;
  /** stable per delivery: the receiver dedups on it where it can */
  idempotencyKey: string;
  /** SMTP connections (email) follow the same private-address rule as HTTP */
  allowPrivate: boolean;
  now: () => number;
}

/** A network endpoint a destination's settings point at: checked against the SSRF rules when saved. */
export type DestinationTarget = { field: string; url: string } | { field: string; host: string };

export interface DestinationDriver {
  kind: DestinationKind;
  /** names of the settings kept encrypted and never returned by the API */
  secretFields: readonly string[];
  /** throws a 400 (errors.ts badRequest) naming the field when the settings are unusable */
  validate(config: Record<string, unknown>, secrets: Record<string, string>): void;
  /** the URLs (or SMTP host) the settings point at; call only after validate */
  targets(config: Record<string, unknown>, secrets: Record<string, string>): DestinationTarget[];
  send(destination: Destination, message: AlertMessage, ctx: SendContext): Promise<SendResult>;
}
