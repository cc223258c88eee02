export { FaultySmtpServer } from './faulty-smtp-server';
export type { DataFault, ReceivedSmtpMessage, SmtpReply } from './faulty-smtp-server';
