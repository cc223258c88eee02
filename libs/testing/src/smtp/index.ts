export { FaultySmtpServer } from './faulty-smtp-server';
export type { DataFault, ReceivedSmtpMessage } from './faulty-smtp-server';
