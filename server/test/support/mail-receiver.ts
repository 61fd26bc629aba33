import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface MailReceiver {
  port: number;
  /** Every message received, raw, in order. */
  mails: string[];
  close(): Promise<void>;
}

/**
 * A real SMTP server on a free local port that keeps what it receives and refuses recipients
 * at `@nowhere.example`, as a mailbox that does not exist.
 */
export async function startMailReceiver(): Promise<MailReceiver> {
  const mails: string[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onRcptTo(address, _session, callback) {
      if (address.address.endsWith('@nowhere.example'))
        return callback(new Error('mailbox unavailable'));
      callback();
    },
    onData(stream, _session, callback) {
      let data = '';
      stream.on('data', (chunk: Buffer) => (data += chunk.toString()));
      stream.on('end', () => {
        mails.push(data);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  return {
    port: (smtp.server.address() as AddressInfo).port,
    mails,
    close: () => new Promise<void>((resolve) => smtp.close(() => resolve())),
  };
}
