/**
 * A deterministic event id from its parts. BullMQ forbids ':' in custom job ids (it is its key
 * separator), so parts are joined with '.' and any ':' becomes '_'.
 */
export function eventId(type: string, ...parts: (string | number)[]): string {
  return [type, ...parts].map((part) => String(part).replace(/:/g, '_')).join('.');
}
