import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

describe('deploy/ files', () => {
  it('the Prometheus alert rules and scrape config pass promtool', () => {
    const root = join(__dirname, '..');
    const rules = execFileSync('promtool', ['check', 'rules', join(root, 'deploy/prometheus/alerts.yml')], { encoding: 'utf8' });
    expect(rules).toMatch(/SUCCESS: \d+ rules found/);
    execFileSync('promtool', ['check', 'config', join(root, 'deploy/prometheus/prometheus.yml')], { encoding: 'utf8' });
  });

  it('the alert rules fire (and stay quiet) as their unit tests say', () => {
    const out = execFileSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: join(__dirname, '..', 'deploy/prometheus'), encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
  });
});
