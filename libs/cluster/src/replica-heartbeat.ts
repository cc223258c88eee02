import { performance } from 'node:perf_hooks';
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ReplicaRegistry } from './replica-registry';
import { errorMessage } from '@app/failures';

/** Rows of replicas silent this long are deleted (a day: long enough to read what happened overnight). */
const FORGET_AFTER_MS = 24 * 3600_000;

/**
 * The listener's heartbeat: registered before any mailbox is claimed (onModuleInit runs before every
 * onApplicationBootstrap), then one UPDATE every CLUSTER_HEARTBEAT_MS. A failed beat is logged and the
 * next one tries again; the lease time is several beats long for exactly that. It also remembers when
 * beats were missing for long (`lapsedSince`): only then may the others have taken this replica's
 * leases, so only then must the lease rounds read every lease it holds.
 */
@Injectable()
export class ReplicaHeartbeat implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ReplicaHeartbeat.name);
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  /** performance.now() when the last beat that succeeded was sent (its heartbeat_at is no older). */
  private lastBeatSentAt: number | null = null;
  /** performance.now() when the last long gap between two successful beats ended. */
  private lastLapseEndedAt: number | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: ReplicaRegistry,
  ) {}

  async onModuleInit(): Promise<void> {
    const sentAt = performance.now();
    await this.registry.register(this.config.listener.id);
    this.lastBeatSentAt = sentAt;
    await this.registry.forgetSilentFor(FORGET_AFTER_MS);
    this.timer = setInterval(() => void this.beat(), this.config.cluster.heartbeatMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Whether this replica may have looked dead to the others at some moment since `since` (a
   * performance.now() instant): two successful beats, or the last one and now, further apart than half
   * the lease time (heartbeat_at lies between a beat's sending and its answer, so that bounds the
   * silence the database saw). Never beaten counts as lapsed. The half leaves room for clock rates and
   * for the others' reads.
   */
  lapsedSince(since: number): boolean {
    if (this.lastBeatSentAt === null) return true;
    const allowed = this.config.cluster.leaseTtlMs / 2;
    if (performance.now() - this.lastBeatSentAt > allowed) return true;
    return this.lastLapseEndedAt !== null && this.lastLapseEndedAt >= since;
  }

  /** One beat now (the interval's; tests drive it directly). */
  async beat(): Promise<void> {
    const sentAt = performance.now();
    try {
      await this.registry.beat(this.config.listener.id);
      const answeredAt = performance.now();
      if (this.lastBeatSentAt === null || answeredAt - this.lastBeatSentAt > this.config.cluster.leaseTtlMs / 2) this.lastLapseEndedAt = answeredAt;
      this.lastBeatSentAt = Math.max(this.lastBeatSentAt ?? sentAt, sentAt);
      if (this.failing) this.logger.log('Heartbeat written again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn(`Heartbeat not written: ${errorMessage(error)}`);
      this.failing = true;
    }
  }
}
