import { Injectable } from '@nestjs/common';

/**
 * Conditions an app adds to /health/ready besides Postgres and Redis, each closed until its owner opens
 * it: the listener is not ready before its first lease round succeeded (until then it runs no mailbox,
 * and a rolling update must not move on to the next replica).
 */
@Injectable()
export class ReadinessGates {
  private readonly closed = new Map<string, string>();

  /** Closes `name` with the reason /health/ready shows until `open(name)`. */
  close(name: string, reason: string): void {
    this.closed.set(name, reason);
  }

  open(name: string): void {
    this.closed.delete(name);
  }

  /** The gates still closed, with their reasons. */
  pending(): Array<{ name: string; reason: string }> {
    return [...this.closed].map(([name, reason]) => ({ name, reason }));
  }
}
