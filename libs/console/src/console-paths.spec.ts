import { consoleMailboxPath, safeReturnTo, sectionOf } from './console-paths';

describe('safeReturnTo', () => {
  it('keeps console paths and refuses everything else', () => {
    expect(safeReturnTo('/console/mailboxes?state=connected')).toBe('/console/mailboxes?state=connected');
    expect(safeReturnTo('/console')).toBe('/console');
    for (const bad of ['https://evil.test/', '//evil.test', '/console//evil.test', '/consoleevil', '/v1/mailboxes', '/console\\@evil', undefined, 5]) {
      expect(safeReturnTo(bad)).toBe('/console');
    }
  });
});

describe('consoleMailboxPath', () => {
  it("is a mailbox's page for a mailbox id, and the list for anything else", () => {
    expect(consoleMailboxPath('0D3C6B8E-1111-4AAA-8BBB-000000000001')).toBe('/console/mailboxes/0d3c6b8e-1111-4aaa-8bbb-000000000001');
    for (const bad of ['', '../../v1', '//evil.test', 'https://evil.test/', '0d3c6b8e-1111-4aaa-8bbb-000000000001/../../x', '0d3c6b8e-1111-4aaa-8bbb-000000000001?x']) {
      expect(consoleMailboxPath(bad)).toBe('/console/mailboxes');
    }
  });
});

describe('sectionOf', () => {
  it('is the section whose navigation entry a console path is under, the overview otherwise', () => {
    expect(sectionOf('/console/mailboxes/0d3c6b8e-1111-4aaa-8bbb-000000000001/token/panel')).toBe('mailboxes');
    expect(sectionOf('/console/services/new')).toBe('services');
    expect(sectionOf('/console/webhooks')).toBe('webhooks');
    expect(sectionOf('/console')).toBe('overview');
    expect(sectionOf('/console/mailboxesx')).toBe('overview');
    expect(sectionOf('/console/nothing-here')).toBe('overview');
  });
});
