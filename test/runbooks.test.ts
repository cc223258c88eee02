import GithubSlugger from 'github-slugger';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';

const root = join(__dirname, '..');
const RUNBOOKS = 'docs/runbooks.md';
const markdown = readFileSync(join(root, RUNBOOKS), 'utf8');
const rules = load(readFileSync(join(root, 'deploy/prometheus/alerts.yml'), 'utf8')) as {
  groups: { rules: { alert?: string; record?: string; annotations?: Record<string, string> }[] }[];
};
const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert);

/** The markdown's headings (outside code blocks) with the anchors GitHub gives them (duplicates get -1, -2, …). */
function headingAnchors(text: string): Map<string, string> {
  const slugger = new GithubSlugger();
  const anchors = new Map<string, string>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = !fenced && /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (heading) anchors.set(slugger.slug(heading[1]), heading[1]);
  }
  return anchors;
}

/** Why a runbook_url does not lead to a heading of docs/runbooks.md, or null when it does. */
function brokenRunbookLink(url: string | undefined, anchors: Map<string, string>): string | null {
  if (!url) return 'no runbook_url';
  const match = /^https:\/\/[^#\s]+\/docs\/runbooks\.md#([^#\s]+)$/.exec(url);
  if (!match) return `not a link to a heading of ${RUNBOOKS}: ${url}`;
  return anchors.has(match[1]) ? null : `no heading with anchor #${match[1]}`;
}

describe('runbooks (docs/runbooks.md) for every alert', () => {
  const anchors = headingAnchors(markdown);

  it('every alert rule has a runbook_url that resolves to a heading of docs/runbooks.md (GitHub anchors)', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(20);
    const broken = alerts.map((a) => [a.alert, brokenRunbookLink(a.annotations?.runbook_url, anchors)]).filter(([, why]) => why !== null);
    expect(broken).toEqual([]);
    // All under one address, so moving the repository is one replacement.
    const prefixes = new Set(alerts.map((a) => a.annotations!.runbook_url.split('#')[0]));
    expect(prefixes.size).toBe(1);
  });

  it("each alert has its own section, named after it, saying what it means, how to confirm, what to do", () => {
    const sections = markdown.split(/^### /m).slice(1);
    const byName = new Map(sections.map((s) => [s.split('\n')[0].trim(), s]));
    for (const alert of alerts) {
      const section = byName.get(alert.alert!);
      expect([alert.alert, section !== undefined]).toEqual([alert.alert, true]);
      expect(alert.annotations!.runbook_url.endsWith(`#${alert.alert!.toLowerCase()}`)).toBe(true);
      for (const part of ['**What it means.**', '**Confirm.**', '**What to do.**']) expect([alert.alert, section!.includes(part)]).toEqual([alert.alert, true]);
    }
    // No section for an alert that no longer exists.
    const alertNames = new Set(alerts.map((a) => a.alert));
    expect([...byName.keys()].filter((name) => !alertNames.has(name))).toEqual([]);
  });

  it('the check sees a broken link: a missing heading, another file, no annotation', () => {
    expect(brokenRunbookLink('https://git.example.com/mail-listener/-/blob/main/docs/runbooks.md#maillistenernosuchalert', anchors)).toBe(
      'no heading with anchor #maillistenernosuchalert',
    );
    expect(brokenRunbookLink('https://git.example.com/mail-listener/-/blob/main/README.md#maillistenerapiunavailable', anchors)).toMatch(/^not a link to a heading/);
    expect(brokenRunbookLink(undefined, anchors)).toBe('no runbook_url');
    // GitHub's slugs: punctuation dropped, spaces to hyphens, repeated headings numbered.
    expect([...headingAnchors('# Process health\n## A, b & c!\n```\n# not a heading\n```\n## A, b & c!\n').keys()]).toEqual(['process-health', 'a-b--c', 'a-b--c-1']);
  });
});
