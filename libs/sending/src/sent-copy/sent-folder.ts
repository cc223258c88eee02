/** What choosing the Sent folder needs of a LIST entry (imapflow's ListResponse). */
export interface ListedFolder {
  path: string;
  name: string;
  flags: Set<string>;
  specialUse?: string;
  specialUseSource?: 'user' | 'extension' | 'name';
}

/**
 * The mailbox's Sent folder: the one the server flags `\Sent` (RFC 6154 SPECIAL-USE; any name, "Gesendete
 * Elemente" as well), else one named `Sent` (any case, at the top level or as the last part of its path).
 * Nothing else: imapflow's guesses by localized names ("Sent Items", "Gesendet" …) could pick a folder the
 * user keeps for something else, and a copy in the wrong folder is worse than none with a reason.
 */
export function sentFolderOf(folders: readonly ListedFolder[]): string | null {
  const flagged = folders.find((folder) => folder.flags.has('\\Sent') || (folder.specialUse === '\\Sent' && folder.specialUseSource === 'extension'));
  if (flagged) return flagged.path;
  const named = folders.filter((folder) => folder.path.toLowerCase() === 'sent' || folder.name.toLowerCase() === 'sent');
  // The shallowest first (INBOX.Sent before INBOX.Archive.Sent).
  named.sort((a, b) => a.path.length - b.path.length);
  return named[0]?.path ?? null;
}
