/** URLs of one mailbox's resources. Ids are path-encoded: Exchange ids are base64 and may contain '/', '+' or '='. */
export class GraphUrls {
  readonly base: string;
  readonly mailbox: string;

  /**
   * `signedInUser`: address the mailbox as `/me` (the delegated token's own user), as Graph documents
   * sendMail for delegated access; otherwise `/users/{id | userPrincipalName}` (app-only, and the readers).
   */
  constructor(baseUrl: string, readonly user: string, options: { signedInUser?: boolean } = {}) {
    this.base = baseUrl.replace(/\/+$/, '');
    this.mailbox = options.signedInUser ? `${this.base}/me` : `${this.base}/users/${encodeURIComponent(user)}`;
  }

  /** A message of the mailbox (a draft too); ids are path-encoded. */
  message(id: string): string {
    return `${this.mailbox}/messages/${encodeURIComponent(id)}`;
  }

  folder(folderIdOrWellKnownName: string): string {
    return `${this.mailbox}/mailFolders/${encodeURIComponent(folderIdOrWellKnownName)}`;
  }

  subscriptions(): string {
    return `${this.base}/subscriptions`;
  }

  subscription(id: string): string {
    return `${this.base}/subscriptions/${encodeURIComponent(id)}`;
  }
}

/** A query string with literal `$` option names (as Graph documents them) and encoded values. */
export function query(params: Array<[string, string]>): string {
  return params.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&');
}

/** An OData string literal: single quotes doubled ("Bob's" → 'Bob''s'). */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
