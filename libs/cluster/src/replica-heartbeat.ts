import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ReplicaRegistry } from './replica-registry';

/** Rows of replicas silent this long are deleted (a day: long enough to read what happened overnight). */
const FORGET_AFTER_MS = 24 * 3600_000;

/**
 * The listener's heartbeat: registered before any mailbox is claimed (onModuleInit runs before every
 * onApplicationBootstrap), then one UPDATE every CLUSTER_HEARTBEAT_MS. A failed beat is logged and the
 * next one tries again; the lease time is several beats long for exactly that.
 */
@Injectable()
export class ReplicaHeartbeat implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ReplicaHeartbeat.name);
  private timer: NodeJS.Timeout | undefined;
  private failing = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: ReplicaRegistry,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.registry.register(this.config.listener.id);
    await this.registry.forgetSilentFor(FORGET_AFTER_MS);
    this.timer = setInterval(() => void this.beat(), this.config.cluster.heartbeatMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async beat(): Promise<void> {
    try {
      await this.registry.beat(this.config.listener.id);
      if (this.failing) this.logger.log('Heartbeat written again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn(`Heartbeat not written: ${error instanceof Error ? error.message : String(error)}`);
      this.failing = true;
    }
  }
}
