/**
 * The additional authenticated data bound into each kind of stored secret (see SecretBox). One place,
 * so writers, readers and the re-encryption job agree on it.
 */
export const secretContext = {
  providerClientSecret: (providerId: string) => `provider:${providerId}:client-secret`,
  mailboxPassword: (mailboxId: string) => `mailbox:${mailboxId}:password`,
  tokenAccess: (tokenId: string) => `oauth-token:${tokenId}:access`,
  tokenRefresh: (tokenId: string) => `oauth-token:${tokenId}:refresh`,
  tokenCache: (tokenId: string) => `oauth-token:${tokenId}:cache`,
  webhookSecret: (endpointId: string) => `webhook:${endpointId}:secret`,
  webhookPreviousSecret: (endpointId: string) => `webhook:${endpointId}:previous-secret`,
};
