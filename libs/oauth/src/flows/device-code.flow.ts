import { BadRequestException, Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { InjectDataSource } from '@nestjs/typeorm';
import { REDIS, RedisLock } from '@app/redis';
import { FailureCode } from '@app/failures';
import { OAuthTokenEntity } from '@app/persistence';
import { Clock, CLOCK } from '@app/clock';
import { IdentityClients } from '../identity-clients';
import { DeviceCodeFlow, UnsupportedFlowError } from '../identity-client';
import { accountMatchesMailbox, OAuthMailboxContextLoader } from '../oauth-mailbox.context';
import { OAuthTokenStore, TokenError } from '../oauth-token.store';
import { refusalOrUnreachable } from '../identity-unreachable';
import { classifyTokenError } from '../token-errors';

export interface DeviceCodeStarted {
  userCode: string;
  verificationUri: string;
  expiresAt: string;
  interval: number;
  message: string;
}

const HEARTBEAT_MS = 10_000;
const HEARTBEAT_TTL_MS = 35_000;

const FAILURE_MESSAGES: Record<string, string> = {
  authorization_declined: 'The user declined the sign-in',
  expired_token: 'The device code expired before the user signed in',
  code_expired: 'The device code expired before the user signed in',
  bad_verification_code: 'The device code was not recognised by the identity provider',
};

const INTERRUPTED: TokenError = { code: FailureCode.SignInInterrupted, message: 'The service restarted while waiting for the sign-in; start the device code flow again' };

/**
 * Device code sign-in: hands out the user code at once, then polls in the background (msal-node does,
 * at the interval the identity provider asks) until the user signs in, declines or the code expires.
 * Each running flow keeps a heartbeat in Redis; a flow whose process died (restart, crash) is found
 * by the sweeper and reported as interrupted instead of waiting forever.
 */
@Injectable()
export class DeviceCodeFlowService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(DeviceCodeFlowService.name);
  private readonly running = new Map<string, { flowId: string; flow: DeviceCodeFlow }>();
  private readonly lock: RedisLock;
  private heartbeat?: NodeJS.Timeout;

  constructor(
    private readonly contexts: OAuthMailboxContextLoader,
    private readonly clients: IdentityClients,
    private readonly store: OAuthTokenStore,
    @Inject(REDIS) redis: Redis,
    @Inject(CLOCK) private readonly clock: Clock,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    this.lock = new RedisLock(redis);
  }

  onModuleInit(): void {
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
    void this.sweep().catch((error: unknown) => this.logger.warn(`Device-code sweep failed: ${String(error)}`));
  }

  /** Shutting down ends our polls: say so on each token now rather than leave it waiting. */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.heartbeat);
    const running = [...this.running.entries()];
    this.running.clear();
    for (const [mailboxId, { flowId, flow }] of running) {
      flow.cancel();
      const token = await this.store.findByMailbox(mailboxId);
      if (token) await this.fail(token.id, (row) => row.authorization?.flowId === flowId, INTERRUPTED).catch(() => undefined);
      await this.lock.clear(this.heartbeatName(flowId)).catch(() => undefined);
    }
  }

  async start(mailboxId: string): Promise<DeviceCodeStarted> {
    const context = await this.contexts.load(mailboxId);
    let flow: DeviceCodeFlow;
    try {
      flow = await this.clients.for(context.settings).startDeviceCode(context.settings);
    } catch (error) {
      if (error instanceof UnsupportedFlowError) throw new BadRequestException(error.message);
      const refusal = refusalOrUnreachable(error);
      throw new BadRequestException(`The identity provider refused the device code request: ${refusal.message}`);
    }
    this.cancel(mailboxId);
    const flowId = randomUUID();
    const issued = flow.issued;
    await this.lock.touch(this.heartbeatName(flowId), HEARTBEAT_TTL_MS);
    await this.store.transition(context.token.id, 'authorization_started', {
      error: null,
      authorization: {
        kind: 'device_code',
        flowId,
        userCode: issued.userCode,
        verificationUri: issued.verificationUri,
        expiresAt: issued.expiresAt.toISOString(),
        message: issued.message,
      },
    });
    this.running.set(mailboxId, { flowId, flow });
    const ownFlow = (token: OAuthTokenEntity) => token.authorization?.flowId === flowId;
    flow.completion.then(
      async (grant) => {
        if (!accountMatchesMailbox(grant.username, context.mailbox)) {
          await this.fail(context.token.id, ownFlow, { code: FailureCode.AccountMismatch, message: `Signed in as ${grant.username ?? 'an unknown account'}, but the mailbox is ${context.mailbox.email}; nothing was stored` });
          return;
        }
        await this.store.transition(context.token.id, 'authorization_completed', { grant, newGrant: true, authorization: null, error: null }, { guard: ownFlow });
        this.logger.log({ mailboxId }, `Mailbox ${mailboxId}: signed in with a device code`);
      },
      async (error: unknown) => {
        // msal reports a declined or expired code as post_request_failed; the OAuth error is in the text.
        const text = `${(error as { errorCode?: string }).errorCode ?? ''} ${(error as Error).message ?? ''}`;
        const known = Object.keys(FAILURE_MESSAGES).find((code) => text.includes(code));
        const failure = known ? { code: known, message: FAILURE_MESSAGES[known] } : { code: classifyTokenError(error).code, message: classifyTokenError(error).message };
        await this.fail(context.token.id, ownFlow, failure);
      },
    )
      .catch((error: unknown) => this.logger.error({ mailboxId }, `Mailbox ${mailboxId}: recording the device-code outcome failed: ${String(error)}`))
      .finally(() => {
        if (this.running.get(mailboxId)?.flowId === flowId) this.running.delete(mailboxId);
        void this.lock.clear(this.heartbeatName(flowId)).catch(() => undefined);
      });
    return { userCode: issued.userCode, verificationUri: issued.verificationUri, expiresAt: issued.expiresAt.toISOString(), interval: issued.interval, message: issued.message };
  }

  /** Stops polling for a mailbox (token deleted, a new flow started). */
  cancel(mailboxId: string): void {
    const running = this.running.get(mailboxId);
    if (!running) return;
    running.flow.cancel();
    this.running.delete(mailboxId);
  }

  /** Waiting device-code rows whose flow no process is running any more. Runs at start and on demand. */
  async sweep(): Promise<number> {
    const waiting = await this.dataSource.getRepository(OAuthTokenEntity).find({ where: { state: 'waiting_for_authorization' } });
    let swept = 0;
    for (const token of waiting) {
      const flowId = token.authorization?.kind === 'device_code' ? String(token.authorization.flowId) : undefined;
      if (!flowId || (await this.lock.isHeld(this.heartbeatName(flowId)))) continue;
      const expired = Date.parse(String(token.authorization?.expiresAt)) <= this.clock.now();
      await this.fail(token.id, (row) => row.authorization?.flowId === flowId, {
        code: expired ? 'expired_token' : INTERRUPTED.code,
        message: expired ? FAILURE_MESSAGES.expired_token : INTERRUPTED.message,
      });
      swept += 1;
    }
    return swept;
  }

  private async fail(tokenId: string, guard: (token: OAuthTokenEntity) => boolean, error: TokenError): Promise<void> {
    await this.store.transition(tokenId, 'authorization_failed', { authorization: null, error }, { guard });
  }

  private async beat(): Promise<void> {
    for (const { flowId } of this.running.values()) await this.lock.touch(this.heartbeatName(flowId), HEARTBEAT_TTL_MS).catch(() => undefined);
  }

  private heartbeatName(flowId: string): string {
    return `oauth-device-flow:${flowId}`;
  }
}
