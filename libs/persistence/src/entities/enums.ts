/** Value sets stored in Postgres enums; the migration creates the same lists. */
export const PROVIDER_TYPES = ['imap', 'microsoft-graph'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

export const LOGIN_FORMATS = ['email', 'local-part', 'manual'] as const;
export type LoginFormat = (typeof LOGIN_FORMATS)[number];

export const AUTH_METHODS = ['basic', 'oauth2'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

export const TOKEN_STATES = ['not_obtained', 'waiting_for_authorization', 'active', 'invalid'] as const;
export type TokenState = (typeof TOKEN_STATES)[number];

export const CONNECTION_STATES = ['pending', 'connecting', 'connected', 'backoff', 'auth_error', 'disabled'] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

export const OAUTH_ISSUERS = ['microsoft', 'google'] as const;
export type OAuthIssuer = (typeof OAUTH_ISSUERS)[number];

/** How the SMTP connection is protected: implicit TLS (465), STARTTLS (587), or plain text (development and tests only). */
export const SMTP_SECURITIES = ['tls', 'starttls', 'none'] as const;
export type SmtpSecurity = (typeof SMTP_SECURITIES)[number];
