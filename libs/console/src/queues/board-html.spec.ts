import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { strictBoardHtml } from './board-html';

describe('strictBoardHtml', () => {
  // The template of the installed Bull Board: an update that changes its markup fails here, not in a browser.
  const template = readFileSync(join(require.resolve('@bull-board/ui/package.json'), '..', 'dist', 'index.ejs'), 'utf8');

  it('leaves out what the console CSP refuses or what comes from the internet, and keeps the rest', () => {
    expect(template).toMatch(/https:\/\/fonts\.googleapis\.com/);
    expect(template).toMatch(/ style="/);
    const strict = strictBoardHtml(template);
    expect(strict).not.toMatch(/https?:\/\//);
    expect(strict).not.toMatch(/ style="|<style/);
    expect(strict).toContain('<div id="root"></div>');
    expect(strict).toContain('<script id="__UI_CONFIG__" type="application/json">');
    expect(strict.match(/<script defer src="static\/js\/[^"]+"><\/script>/g)?.length).toBeGreaterThan(0);
    expect(strict).toMatch(/<link href="static\/css\/main\.[^"]+\.css" rel="stylesheet">/);
  });
});
