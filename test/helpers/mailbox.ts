/** A loopback SMTP server (smtp-server) that keeps what it receives: Vigil's VIGIL_SMTP_URL in tests. */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** the raw message, headers and MIME parts */
  raw: string;
  subject: string;
  /** the message with quoted-printable encoding undone: what a reader sees */
  text: string;
  /** every http(s) link in the message */
  links: string[];
}

export interface Mailbox {
  /** smtp://127.0.0.1:<port> */
  url: string;
  mails: ReceivedMail[];
  /** The first mail to `to` (after `skip` earlier ones) matching `subject`, waiting for it to arrive. */
  waitFor(to: string, subject?: RegExp, opts?: { skip?: number; timeoutMs?: number }): Promise<ReceivedMail>;
  close(): Promise<void>;
}

/** Undoes quoted-printable soft line breaks and escapes (the parts nodemailer writes). */
export function unQuote(s: string): string {
  return Buffer.from(
    s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  ).toString('utf8');
}

function parse(raw: string, from: string, to: string[]): ReceivedMail {
  const text = unQuote(raw);
  const subject = /^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(raw)?.[1].replace(/\r?\n[ \t]/g, ' ') ?? '';
  const links = [...new Set(text.match(/https?:\/\/[^\s"<>]+/g) ?? [])];
  return { from, to, raw, subject, text, links };
}

export async function startMailbox(): Promise<Mailbox> {
  const mails: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        mails.push(
          parse(
            Buffer.concat(chunks).toString('utf8'),
            from,
            session.envelope.rcptTo.map((r) => r.address),
          ),
        );
        for (const wake of waiters) wake();
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;

  const find = (to: string, subject: RegExp | undefined, skip: number) =>
    mails.filter((m) => m.to.includes(to) && (!subject || subject.test(m.subject)))[skip];

  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    async waitFor(to, subject, { skip = 0, timeoutMs = 10_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const mail = find(to, subject, skip);
        if (mail) return mail;
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(
            `no e-mail to ${to}${subject ? ` with a subject like ${subject}` : ''} within ${timeoutMs} ms (received: ${mails.map((m) => `${m.to.join(',')}: ${m.subject}`).join('; ') || 'none'})`,
          );
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(wake, left);
          waiters.add(wake);
        });
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
