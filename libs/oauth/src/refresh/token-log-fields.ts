/** A token's log fields: its id, and its mailbox's (an app-only token of a provider has none), so a mailbox's story includes its token's. */
export function tokenFields(token: { id: string; mailboxId: string | null }): Record<string, string> {
  return token.mailboxId ? { tokenId: token.id, mailboxId: token.mailboxId } : { tokenId: token.id };
}
