/** The destination drivers by kind, and the two calls the alert service makes: check settings, send. */
import { badRequest } from '../../errors.js';
import type { AlertMessage } from '../message.js';
import { checkHost, checkUrl, type UrlPolicy } from '../outbound.js';
import { resultOfError } from './common.js';
import { emailDriver } from './email.js';
import { jiraDriver } from './jira.js';
import { linearDriver } from './linear.js';
import { pagerDutyDriver } from './pagerduty.js';
import { slackDriver } from './slack.js';
import { teamsDriver } from './teams.js';
import { telegramDriver } from './telegram.js';
import {
  DESTINATION_KINDS,
  type Destination,
  type DestinationDriver,
  type DestinationKind,
  type SendContext,
  type SendResult,
} from './types.js';
import { webhookDriver } from './webhook.js';

export { DESTINATION_KINDS } from './types.js';
export type { Destination, DestinationDriver, DestinationKind, DestinationTarget, SendContext, SendResult } from './types.js';
export { generateWebhookSecret, signWebhook, verifyWebhookSignature } from './webhook.js';

export const DRIVERS: Record<DestinationKind, DestinationDriver> = {
  webhook: webhookDriver,
  slack: slackDriver,
  telegram: telegramDriver,
  email: emailDriver,
  jira: jiraDriver,
  linear: linearDriver,
  pagerduty: pagerDutyDriver,
  teams: teamsDriver,
};

export function isDestinationKind(kind: string): kind is DestinationKind {
  return (DESTINATION_KINDS as readonly string[]).includes(kind);
}

/** The driver for `kind`; a 400 naming the field `kind` when there is none. */
export function driverFor(kind: string): DestinationDriver {
  if (!isDestinationKind(kind)) throw badRequest(`kind must be one of ${DESTINATION_KINDS.join(', ')}`, { field: 'kind' });
  return DRIVERS[kind];
}

/**
 * Everything checked when a destination is saved: the driver's validation, then each URL (https
 * unless allowed) and host (not private unless allowed, resolved now). Throws a 400 naming the field.
 */
export async function checkDestination(
  kind: string,
  config: Record<string, unknown>,
  secrets: Record<string, string>,
  policy: UrlPolicy,
): Promise<void> {
  const driver = driverFor(kind);
  driver.validate(config, secrets);
  for (const target of driver.targets(config, secrets)) {
    if ('url' in target) await checkUrl(target.url, { ...policy, field: target.field });
    else await checkHost(target.host, { ...policy, field: target.field });
  }
}

/**
 * Sends `message` to `destination`. Never throws: settings that no longer validate give a result
 * that is not retryable, anything unexpected one that is.
 */
export async function sendTo(destination: Destination, message: AlertMessage, ctx: SendContext): Promise<SendResult> {
  try {
    const driver = driverFor(destination.kind);
    driver.validate(destination.config, destination.secrets);
    return await driver.send(destination, message, ctx);
  } catch (err) {
    return resultOfError(err);
  }
}
