/** The message of anything thrown: an Error's own message, else its string form (a rejected string, a number…). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
