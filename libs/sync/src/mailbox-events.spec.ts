import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import schema from '../../events/src/schema/mail-events.schema.json';
import { eventId, graphMessageRef, imapMessageRef } from '@app/events';
import { mailboxStateChanged } from '@app/mailbox-state';
import { folderKey, graphMailReceived, mailboxResynced, mailReceived } from './mailbox-events';

const mailbox = { id: '6f110208-1f74-4558-84ac-c4ca9dee9c58', email: 'ana@contoso.com', externalId: null };
const message = {
  folder: 'INBOX',
  uid: 42,
  uidValidity: 1700000000,
  providerMessageId: null,
  internetMessageId: '<abc@contoso.com>',
  subject: 'Hi',
  from: { name: 'Bo', address: 'bo@fabrikam.com' },
  to: [{ name: null, address: 'ana@contoso.com' }],
  cc: [],
  receivedAt: '2026-11-21T10:00:00.000Z',
  size: 1234,
};

describe('event contract', () => {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);

  it('every event the listener builds matches the published JSON Schema', () => {
    const at = new Date('2026-11-21T10:00:01Z');
    for (const event of [
      mailReceived(mailbox, message, at),
      mailboxResynced(mailbox, 'INBOX', 1, 2, at),
      mailboxStateChanged(mailbox, 3, 'connected', 'connecting', null, at),
      mailboxStateChanged(mailbox, 4, 'auth_error', 'connecting', { code: 'AUTHENTICATIONFAILED', message: 'Authentication failed.' }, at),
    ]) {
      expect(validate(event) ? [] : validate.errors).toEqual([]);
    }
    expect(validate({ ...mailReceived(mailbox, message, at), id: 'has:colon' })).toBe(false);
    expect(validate({ ...mailReceived(mailbox, message, at), message: { ...message, uid: 'x' } })).toBe(false);
    // Every mail.received carries the ref that reads the message; without it the event is not v1 any more.
    expect(mailReceived(mailbox, message, at).message.ref).toBe(imapMessageRef(mailbox.id, 'INBOX', 1700000000, 42));
    const { ref: _ref, ...withoutRef } = mailReceived(mailbox, message, at).message;
    expect(validate({ ...mailReceived(mailbox, message, at), message: withoutRef })).toBe(false);
    const graph = graphMailReceived(mailbox, { ...message, uid: null, uidValidity: null, providerMessageId: 'AAkALgAA+/=' }, at);
    expect(validate(graph) ? [] : validate.errors).toEqual([]);
    expect(graph.message.ref).toBe(graphMessageRef(mailbox.id, 'INBOX', 'AAkALgAA+/='));
  });

  it('the same message always gets the same id, and ids never contain a colon', () => {
    const a = mailReceived(mailbox, message, new Date(1));
    const b = mailReceived(mailbox, { ...message, subject: 'changed' }, new Date(2));
    expect(a.id).toBe(b.id);
    expect(a.id).toBe(`mail.received.${mailbox.id}.${folderKey('INBOX')}.1700000000.42`);
    expect(mailReceived(mailbox, { ...message, uid: 43 }, new Date(1)).id).not.toBe(a.id);
    expect(mailReceived(mailbox, { ...message, folder: 'Sales' }, new Date(1)).id).not.toBe(a.id);
    expect(eventId('x', 'a:b', 1)).toBe('x.a_b.1');
  });
});
