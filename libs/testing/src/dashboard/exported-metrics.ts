/**
 * Every series name a Prometheus text exposition offers: each `# TYPE` family under the names its samples
 * carry (a histogram `x` is scraped as `x_bucket`, `x_sum` and `x_count`, a summary as `x`, `x_sum` and
 * `x_count`), plus any sample line's name. A family with labels and no observations yet has a TYPE line
 * and no samples, and is still exported.
 */
export function exportedSeriesNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      const [, family, kind] = type;
      if (kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(family + suffix);
      else if (kind === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(family + suffix);
      else names.add(family);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{|\s)/.exec(line);
    if (sample) names.add(sample[1]);
  }
  return names;
}
