import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { TokenState } from './enums';

/**
 * OAuth tokens. A row with a mailbox is a delegated (per-user) token; a row without one is the provider's
 * app-only token (client credentials), at most one per provider.
 */
@Entity('oauth_tokens')
export class OAuthTokenEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'provider_id', type: 'uuid' }) providerId: string;
  @Column({ name: 'mailbox_id', type: 'uuid', nullable: true }) mailboxId: string | null;
  @Column({ type: 'enum', enumName: 'token_state', enum: ['not_obtained', 'waiting_for_authorization', 'active', 'invalid'] })
  state: TokenState;
  @Column({ name: 'access_token_encrypted', type: 'text', nullable: true }) accessTokenEncrypted: string | null;
  @Column({ name: 'refresh_token_encrypted', type: 'text', nullable: true }) refreshTokenEncrypted: string | null;
  /** Serialized token cache of the OAuth client library (msal-node), encrypted. */
  @Column({ name: 'cache_encrypted', type: 'text', nullable: true }) cacheEncrypted: string | null;
  @Column({ type: 'text', array: true, default: () => "'{}'" }) scopes: string[];
  @Column({ name: 'account_username', type: 'text', nullable: true }) accountUsername: string | null;
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true }) expiresAt: Date | null;
  @Column({ name: 'issued_at', type: 'timestamptz', nullable: true }) issuedAt: Date | null;
  /** When the refresher should renew it: ahead of expiry with jitter, or after a backoff. */
  @Column({ name: 'refresh_due_at', type: 'timestamptz', nullable: true }) refreshDueAt: Date | null;
  /** Transient refresh failures in a row (drives the backoff). */
  @Column({ name: 'refresh_attempts', type: 'integer', default: 0 }) refreshAttempts: number;
  /** Grows with every new grant (sign-in or import); keys the `mailbox.auth_failed` event id. */
  @Column({ type: 'integer', default: 0 }) generation: number;
  @Column({ name: 'last_refresh_at', type: 'timestamptz', nullable: true }) lastRefreshAt: Date | null;
  @Column({ name: 'last_error_code', type: 'text', nullable: true }) lastErrorCode: string | null;
  @Column({ name: 'last_error_message', type: 'text', nullable: true }) lastErrorMessage: string | null;
  @Column({ name: 'last_error_at', type: 'timestamptz', nullable: true }) lastErrorAt: Date | null;
  /** Pending device-code or consent details while `waiting_for_authorization`. */
  @Column({ name: 'authorization', type: 'jsonb', nullable: true }) authorization: Record<string, unknown> | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
