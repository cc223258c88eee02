import { BenchEnvironment } from './environment';

/** What a phase hands back: lines for the console and the figures themselves (printed as JSON). */
export interface PhaseReport {
  lines: string[];
  figures: Record<string, number | string | boolean>;
}

/**
 * One measurement on the shared environment. main.ts runs its phases in order; an end-to-end phase
 * (Graph notification → `mail.received`, with the listener and the fake Graph) is another BenchPhase in
 * its own file, added to that list.
 */
export interface BenchPhase {
  name: string;
  run(env: BenchEnvironment): Promise<PhaseReport>;
}
