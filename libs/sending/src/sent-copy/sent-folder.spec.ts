import { ListedFolder, sentFolderOf } from './sent-folder';

const folder = (path: string, flags: string[] = [], extra: Partial<ListedFolder> = {}): ListedFolder => ({ path, name: path.split(/[./]/).pop()!, flags: new Set(flags), ...extra });

describe('sentFolderOf', () => {
  it('takes the folder the server flags \\Sent, whatever its name, before one named Sent', () => {
    expect(sentFolderOf([folder('INBOX'), folder('Sent'), folder('Gesendete Elemente', ['\\HasNoChildren', '\\Sent'])])).toBe('Gesendete Elemente');
  });

  it('else a folder named Sent in any case, the shallowest first', () => {
    expect(sentFolderOf([folder('INBOX'), folder('INBOX.Archive.Sent'), folder('INBOX.sent')])).toBe('INBOX.sent');
    expect(sentFolderOf([folder('SENT')])).toBe('SENT');
  });

  it("never imapflow's guess from a localized name", () => {
    expect(sentFolderOf([folder('INBOX'), folder('Sent Items', [], { specialUse: '\\Sent', specialUseSource: 'name' })])).toBeNull();
  });

  it('none: null', () => {
    expect(sentFolderOf([folder('INBOX'), folder('Drafts', ['\\Drafts'])])).toBeNull();
  });
});
