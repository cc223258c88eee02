/**
 * The shape every explicit state machine of the service shares (connection, token, Graph subscription):
 * one table of `state → event → next state`, and one error for an event a state does not take. Each
 * machine keeps its own table and error class (with its own code), so callers can tell them apart.
 */
export type TransitionTable<S extends string, E extends string> = Record<S, Partial<Record<E, S>>>;

export abstract class InvalidTransitionError<S extends string = string, E extends string = string> extends Error {
  abstract readonly code: string;

  protected constructor(
    /** The subject in words, for the message ("A mailbox", "A token"). */
    subject: string,
    readonly from: S,
    readonly event: E,
  ) {
    super(`${subject} in state ${from} cannot take the event ${event}`);
    this.name = new.target.name;
  }
}

/** The machine's one transition function: the next state, or the machine's own InvalidTransitionError. */
export function transitionsOf<S extends string, E extends string>(
  table: TransitionTable<S, E>,
  invalid: new (from: S, event: E) => InvalidTransitionError<S, E>,
): (from: S, event: E) => S {
  return (from, event) => {
    const to = table[from][event];
    if (!to) throw new invalid(from, event);
    return to;
  };
}
