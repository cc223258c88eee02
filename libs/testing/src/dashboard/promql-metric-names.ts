import { parser } from '@prometheus-io/lezer-promql';

/**
 * Grafana's built-in interval variables, replaced by a duration so the expression parses as PromQL.
 * Other `$variables` only appear inside label values (strings) in our dashboard.
 */
const GRAFANA_DURATIONS = /\$(?:__rate_interval|__interval|__range|__auto)\b|\$\{(?:__rate_interval|__interval|__range|__auto)\}/g;

/**
 * The metric names an expression selects: each vector selector's name (`foo{...}`), or its `__name__`
 * equality matcher (`{__name__="foo"}`). Function, aggregation and label names are not metrics, which is
 * why this parses the expression (with Prometheus' own grammar) instead of matching words. Throws on an
 * expression that does not parse, naming where.
 */
export function metricNamesIn(expression: string): string[] {
  const promql = expression.replace(GRAFANA_DURATIONS, '5m');
  const tree = parser.parse(promql);
  const names = new Set<string>();
  let error: number | undefined;
  tree.iterate({
    enter(node) {
      if (node.type.isError && error === undefined) error = node.from;
      if (node.name !== 'VectorSelector') return;
      const name = node.node.getChild('Identifier');
      if (name) {
        names.add(promql.slice(name.from, name.to));
        return;
      }
      // No name in front: `{__name__="foo", ...}` (or a quoted UTF-8 name `{"foo"}`).
      for (const matcher of node.node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
        const label = matcher.getChild('LabelName');
        const op = matcher.getChild('MatchOp');
        const value = matcher.getChild('StringLiteral');
        if (label && value && op && promql.slice(label.from, label.to) === '__name__' && promql.slice(op.from, op.to) === '=') {
          names.add(JSON.parse(promql.slice(value.from, value.to).replace(/^'|'$/g, '"')));
        }
      }
      for (const quoted of node.node.getChild('LabelMatchers')?.getChildren('QuotedLabelName') ?? []) {
        const value = quoted.getChild('StringLiteral');
        if (value) names.add(JSON.parse(promql.slice(value.from, value.to)));
      }
    },
  });
  if (error !== undefined) throw new Error(`not PromQL at offset ${error}: ${promql.slice(Math.max(0, error - 20), error)}⟨here⟩${promql.slice(error, error + 20)}`);
  return [...names];
}
