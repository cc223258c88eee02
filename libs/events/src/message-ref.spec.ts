import { graphMessageRef, imapMessageRef, MalformedMessageRefError, mailboxTag, MESSAGE_REF_MAX_LENGTH, parseMessageRef } from './message-ref';
import { folderKey } from './folder-key';

const mailbox = '6f110208-1f74-4558-84ac-c4ca9dee9c58';
const GRAPH_ID = 'AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AxyzAAAAAAEMAAAvC5m+tYhJFl/mQp3ThBqAAAAAG+EAAA=';

describe('message ref', () => {
  it('IMAP: folder, UIDVALIDITY and UID round-trip, URL-safe', () => {
    const ref = imapMessageRef(mailbox, 'Projects/Ärger & "Q1"', 1700000000, 42);
    expect(ref).toMatch(/^[A-Za-z0-9._~-]+$/);
    expect(encodeURIComponent(ref)).toBe(ref);
    expect(parseMessageRef(ref)).toEqual({ kind: 'imap', mailboxTag: mailboxTag(mailbox), folder: { path: 'Projects/Ärger & "Q1"' }, uidValidity: 1700000000, uid: 42 });
  });

  it('Graph: an immutable id with +, / and = round-trips within 200 characters', () => {
    const ref = graphMessageRef(mailbox, 'INBOX', GRAPH_ID);
    expect(ref.length).toBeLessThanOrEqual(MESSAGE_REF_MAX_LENGTH);
    expect(encodeURIComponent(ref)).toBe(ref);
    expect(parseMessageRef(ref)).toMatchObject({ kind: 'graph', messageId: GRAPH_ID });
  });

  it('a folder too long for the limit is carried as its key', () => {
    const long = 'Archive/'.repeat(40);
    const ref = imapMessageRef(mailbox, long, 1, 2);
    expect(ref.length).toBeLessThanOrEqual(MESSAGE_REF_MAX_LENGTH);
    expect(parseMessageRef(ref)).toMatchObject({ folder: { key: folderKey(long) } });
    expect(parseMessageRef(graphMessageRef(mailbox, 'Some rather long folder name for Graph', GRAPH_ID))).toMatchObject({ messageId: GRAPH_ID });
  });

  it('anything else is malformed, naming the problem', () => {
    for (const [bad, problem] of [
      ['', /empty/],
      ['x'.repeat(201), /longer than 200/],
      ['i1.abc/def', /characters/],
      ['z9.AAAAAAAA.fSU5CT1g.1.2', /unknown kind/],
      ['i1.short.fSU5CT1g.1.2', /mailbox part/],
      ['i1.AAAAAAAA.fSU5CT1g.0.2', /UIDVALIDITY/],
      ['i1.AAAAAAAA.fSU5CT1g.1.99999999999', /UID/],
      ['i1.AAAAAAAA.fSU5CT1g.1', /five parts/],
      ['i1.AAAAAAAA.q.1.2', /folder/],
      ['g1.AAAAAAAA.fSU5CT1g.', /four parts/],
      ['g1.AAAAAAAA.fSU5CT1g.a~ZZ', /message id/],
    ] as const) {
      expect(() => parseMessageRef(bad)).toThrow(MalformedMessageRefError);
      expect(() => parseMessageRef(bad)).toThrow(problem);
    }
  });
});
