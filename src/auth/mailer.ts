/**
 * The instance's own e-mail (invitation and password-reset links), sent over the SMTP server of
 * VIGIL_SMTP_URL from VIGIL_MAIL_FROM. Alert e-mail is separate: each email destination names its
 * own server. Without VIGIL_SMTP_URL there is no mailer, and the links are shown or printed instead.
 */
import nodemailer from 'nodemailer';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

const CONNECTION_TIMEOUT_MS = 10_000;
const SOCKET_TIMEOUT_MS = 20_000;

/** The mailer VIGIL_SMTP_URL configures, or undefined when it is not set. */
export function createMailer(config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'publicUrl'>): Mailer | undefined {
  if (!config.smtpUrl) return undefined;
  const transport = nodemailer.createTransport(
    {
      url: config.smtpUrl,
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      greetingTimeout: CONNECTION_TIMEOUT_MS,
      socketTimeout: SOCKET_TIMEOUT_MS,
    },
    { from: config.mailFrom ?? `Vigil <vigil@${mailDomain(config)}>` },
  );
  return {
    async send(message) {
      await transport.sendMail(message);
    },
  };
}

/** The domain of the default sender: the public URL's host, else `localhost`. */
function mailDomain(config: Pick<Config, 'publicUrl'>): string {
  return config.publicUrl ? new URL(config.publicUrl).hostname : 'localhost';
}

/** The origin links in e-mails and answers are made with: VIGIL_PUBLIC_URL, else the request's own. */
export function linkOrigin(config: Pick<Config, 'publicUrl'>, request: FastifyRequest): string {
  return (config.publicUrl ?? `${request.protocol}://${request.host}`).replace(/\/+$/, '');
}

/** Sends `message` when there is a mailer: true once sent; false without a mailer or when sending failed (logged). */
export async function trySend(mailer: Mailer | undefined, message: MailMessage, log: FastifyBaseLogger): Promise<boolean> {
  if (!mailer) return false;
  try {
    await mailer.send(message);
    return true;
  } catch (err) {
    log.warn({ err, subject: message.subject }, 'an e-mail could not be sent (VIGIL_SMTP_URL)');
    return false;
  }
}
