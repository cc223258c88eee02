import { safeReturnTo } from './console-paths';

describe('safeReturnTo', () => {
  it('keeps console paths and refuses everything else', () => {
    expect(safeReturnTo('/console/mailboxes?state=connected')).toBe('/console/mailboxes?state=connected');
    expect(safeReturnTo('/console')).toBe('/console');
    for (const bad of ['https://evil.test/', '//evil.test', '/console//evil.test', '/consoleevil', '/v1/mailboxes', '/console\\@evil', undefined, 5]) {
      expect(safeReturnTo(bad)).toBe('/console');
    }
  });
});
