import type { Express } from 'express';

type RenderCallback = (error: Error | null, html?: string) => void;
type Engine = (path: string, options: object, callback: RenderCallback) => void;

/** Bull Board's page asks Google for its fonts: the console loads nothing from elsewhere (the board falls back to system fonts). */
const REMOTE_FONTS = /<link[^>]+href="https:\/\/fonts\.(?:googleapis|gstatic)\.com[^>]*>\s*/g;
/** Its "Loading" placeholder is drawn with style="" attributes and a <style> block, which the CSP refuses; React replaces it anyway. */
const INLINE_STYLED_PLACEHOLDER = /<div id="root">[\s\S]*?<\/div>\s*(?=<script)/;

/**
 * Bull Board's page as the console serves it: nothing from the internet, no inline styles. What stays
 * inline is the board's configuration, a `<script type="application/json">` (data, which no CSP runs).
 */
export function strictBoardHtml(html: string): string {
  return html.replace(REMOTE_FONTS, '').replace(INLINE_STYLED_PLACEHOLDER, '<div id="root"></div>\n');
}

/** Makes Bull Board's Express app pass every page it renders through strictBoardHtml. */
export function boardHtml(app: Express): void {
  const render = (app as unknown as { engines: Record<string, Engine> }).engines['.ejs'];
  if (!render) throw new Error('Bull Board renders with EJS: its Express adapter registered no .ejs engine');
  app.engine('ejs', (path: string, options: object, callback: RenderCallback) =>
    render(path, options, (error, html) => (error ? callback(error) : callback(null, strictBoardHtml(html ?? '')))),
  );
}
