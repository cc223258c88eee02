import { QueryFailedError } from 'typeorm';

/** The SQLSTATE codes the services turn into answers of their own (a clear 4xx instead of a 500). */
export enum PgErrorCode {
  UniqueViolation = '23505',
  ForeignKeyViolation = '23503',
}

interface PgDriverError {
  code?: string;
  constraint?: string;
}

/** True when `error` is Postgres' `code`, optionally on one named constraint (so other violations still surface). */
export function isPgError(error: unknown, code: PgErrorCode, constraint?: string): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driver = error.driverError as PgDriverError | undefined;
  return driver?.code === code && (constraint === undefined || driver.constraint === constraint);
}
