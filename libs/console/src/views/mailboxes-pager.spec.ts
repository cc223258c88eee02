import { pageCount, pageWindow } from './mailboxes.view';

describe('the mailbox list pager', () => {
  it('counts pages of a list, one page even when empty', () => {
    expect(pageCount(10_000, 50)).toBe(200);
    expect(pageCount(10_001, 50)).toBe(201);
    expect(pageCount(0, 50)).toBe(1);
  });

  it('links the first and last page and two either side of the current one, with gaps between', () => {
    expect(pageWindow(1, 200)).toEqual([1, 2, 3, 'gap', 200]);
    expect(pageWindow(6, 200)).toEqual([1, 'gap', 4, 5, 6, 7, 8, 'gap', 200]);
    expect(pageWindow(4, 200)).toEqual([1, 2, 3, 4, 5, 6, 'gap', 200]);
    expect(pageWindow(200, 200)).toEqual([1, 'gap', 198, 199, 200]);
    expect(pageWindow(1, 1)).toEqual([1]);
  });
});
