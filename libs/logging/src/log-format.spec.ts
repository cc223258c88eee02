import { baseLogFields, prettyTransport, wantsPrettyLogs } from './log-format';

describe('log format', () => {
  it('is pino-pretty only in development with a terminal on stdout; JSON in production, tests and when piped', () => {
    expect(wantsPrettyLogs('development', true)).toBe(true);
    expect(wantsPrettyLogs('development', false)).toBe(false);
    expect(wantsPrettyLogs('development', undefined)).toBe(false);
    expect(wantsPrettyLogs('production', true)).toBe(false);
    expect(wantsPrettyLogs('test', true)).toBe(false);
    expect(prettyTransport('development', true)).toMatchObject({ target: 'pino-pretty' });
    expect(prettyTransport('production', true)).toBeUndefined();
  });

  it('puts the replica id on every line of a listener, and nothing extra on the API’s', () => {
    expect(baseLogFields('listener-a-1')).toEqual({ pid: process.pid, hostname: expect.any(String), replicaId: 'listener-a-1' });
    expect(baseLogFields()).toEqual({ pid: process.pid, hostname: expect.any(String) });
  });
});
