import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface DovecotVersion {
  /** As printed by `dovecot --version`, e.g. `2.3.19.1 (9b53102964)`. */
  full: string;
  major: number;
  minor: number;
  patch: number;
}

export interface DovecotBinaries {
  dovecot: string;
  doveadm: string;
}

/** Absolute paths when the Debian locations exist (a non-root PATH often lacks /usr/sbin); DOVECOT_BIN / DOVEADM_BIN override. */
export function dovecotBinaries(): DovecotBinaries {
  const pick = (env: string | undefined, candidates: string[], fallback: string): string =>
    env ?? candidates.find((candidate) => existsSync(candidate)) ?? fallback;
  return {
    dovecot: pick(process.env.DOVECOT_BIN, ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot'], 'dovecot'),
    doveadm: pick(process.env.DOVEADM_BIN, ['/usr/bin/doveadm', '/usr/local/bin/doveadm'], 'doveadm'),
  };
}

let cached: DovecotVersion | undefined;

/** `dovecot --version`, parsed (cached per process). Throws a one-line hint when Dovecot is not installed. */
export function detectDovecotVersion(binary = dovecotBinaries().dovecot): DovecotVersion {
  if (cached) return cached;
  let full: string;
  try {
    full = execFileSync(binary, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    throw new Error(
      `Dovecot is not installed (${binary} --version failed: ${(error as Error).message.split('\n')[0]}); on Debian: apt-get install dovecot-imapd`,
    );
  }
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(full);
  if (!match) throw new Error(`Cannot parse the Dovecot version from "${full}"`);
  cached = { full, major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
  return cached;
}

/** The config renderer speaks the 2.3 syntax only (2.4 renamed most settings and needs dovecot_config_version). */
export function assertSupportedVersion(version: DovecotVersion): void {
  if (version.major !== 2 || version.minor !== 3) {
    throw new Error(
      `DovecotServer renders Dovecot 2.3 configuration, but ${version.full} is installed; ` +
        'install Dovecot 2.3 (Debian 12 bookworm: apt-get install dovecot-imapd) or extend libs/testing/src/dovecot/config.ts for this version',
    );
  }
}
