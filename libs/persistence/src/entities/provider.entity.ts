import { Column, CreateDateColumn, Entity, OneToMany, PrimaryGeneratedColumn, UpdateDateColumn, Relation } from 'typeorm';
import { AuthMethod, LoginFormat, OAuthIssuer, ProviderType, SmtpSecurity } from './enums';
import { ProviderDomainEntity } from './provider-domain.entity';

/** A mail service: where mailboxes connect and how they authenticate. */
@Entity('providers')
export class ProviderEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'text' }) name: string;
  @Column({ type: 'enum', enumName: 'provider_type', enum: ['imap', 'microsoft-graph'] }) type: ProviderType;
  @Column({ type: 'text', nullable: true }) host: string | null;
  @Column({ type: 'integer', nullable: true }) port: number | null;
  @Column({ type: 'boolean' }) secure: boolean;
  @Column({ name: 'verify_certificate', type: 'boolean' }) verifyCertificate: boolean;
  @Column({ name: 'load_emails', type: 'boolean' }) loadEmails: boolean;
  @Column({ name: 'send_emails', type: 'boolean' }) sendEmails: boolean;
  @Column({ name: 'login_format', type: 'enum', enumName: 'login_format', enum: ['email', 'local-part', 'manual'] }) loginFormat: LoginFormat;
  @Column({ name: 'auth_method', type: 'enum', enumName: 'auth_method', enum: ['basic', 'oauth2'] }) authMethod: AuthMethod;
  @Column({ name: 'oauth_issuer', type: 'enum', enumName: 'oauth_issuer', enum: ['microsoft', 'google'], nullable: true }) oauthIssuer: OAuthIssuer | null;
  /** App-only (client credentials) for a whole tenant: no per-mailbox sign-in. */
  @Column({ name: 'oauth_app_only', type: 'boolean', default: false }) oauthAppOnly: boolean;
  @Column({ name: 'oauth_client_id', type: 'text', nullable: true }) oauthClientId: string | null;
  /** SecretBox ciphertext, context `provider:<id>:client-secret`. */
  @Column({ name: 'oauth_client_secret_encrypted', type: 'text', nullable: true }) oauthClientSecretEncrypted: string | null;
  @Column({ name: 'oauth_tenant', type: 'text', nullable: true }) oauthTenant: string | null;
  @Column({ name: 'oauth_authority_host', type: 'text', nullable: true }) oauthAuthorityHost: string | null;
  @Column({ name: 'oauth_scopes', type: 'text', array: true, default: () => "'{}'" }) oauthScopes: string[];
  @Column({ name: 'graph_base_url', type: 'text', nullable: true }) graphBaseUrl: string | null;
  /** SMTP submission server (imap providers; null for Graph, which sends through sendMail). */
  @Column({ name: 'smtp_host', type: 'text', nullable: true }) smtpHost: string | null;
  @Column({ name: 'smtp_port', type: 'integer', nullable: true }) smtpPort: number | null;
  @Column({ name: 'smtp_security', type: 'enum', enumName: 'smtp_security', enum: ['tls', 'starttls', 'none'], nullable: true }) smtpSecurity: SmtpSecurity | null;
  /** Append each sent message to the Sent folder (servers that keep no copy themselves). */
  @Column({ name: 'append_to_sent', type: 'boolean', default: false }) appendToSent: boolean;
  @OneToMany(() => ProviderDomainEntity, (domain) => domain.provider, { cascade: true }) domains: Relation<ProviderDomainEntity[]>;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
