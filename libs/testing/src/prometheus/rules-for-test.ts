import { dump, load } from 'js-yaml';

interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ alert?: string; record?: string; expr: string; for?: string }> }>;
}

/**
 * A rule file as a test loads it: every `for:` replaced by `forDuration` (minutes of real time would not
 * fit a test), every expression exactly as written. Answers the new YAML and the alerts that had a `for:`.
 */
export function withShortFor(ruleFileText: string, forDuration: string): { text: string; shortened: string[] } {
  const file = load(ruleFileText) as RuleFile;
  const shortened: string[] = [];
  for (const group of file.groups) {
    for (const rule of group.rules) {
      if (rule.for === undefined) continue;
      rule.for = forDuration;
      shortened.push(rule.alert ?? rule.record ?? '?');
    }
  }
  return { text: dump(file, { lineWidth: -1 }), shortened };
}
