import { html } from './html';

describe('html', () => {
  it('escapes interpolated text and keeps nested html', () => {
    const inner = html`<b>${'<script>'}</b>`;
    expect(html`<p title="${'"x" & y'}">${inner}${['a', '<i>']}</p>`.text).toBe('<p title="&quot;x&quot; &amp; y"><b>&lt;script&gt;</b>a&lt;i&gt;</p>');
  });

  it('renders nothing for null, undefined and false', () => {
    expect(html`${null}${undefined}${false}${0}`.text).toBe('0');
  });
});
