import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { errorMessage } from '@app/failures';
import { SentCopier } from './sent-copier';
import { SentCopyRepository } from './sent-copy.repository';

const SWEEP_EVERY_MS = 30_000;

/**
 * Takes the Sent copies that are due: a retry whose time has come, a copy whose worker died while holding
 * it (its hold ran out), or one never started (the worker died between recording `sent` and starting it).
 * Every send worker sweeps; a copy is claimed in one conditional UPDATE, so each is made by one of them.
 */
@Injectable()
export class SentCopySweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SentCopySweeper.name);
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly repository: SentCopyRepository,
    private readonly copier: SentCopier,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.timer.unref();
  }

  beforeApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async sweep(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const id of await this.repository.due()) await this.copier.copy(id);
    } catch (error) {
      this.logger.warn(`Sent copy sweep: ${errorMessage(error)}`);
    } finally {
      this.running = false;
    }
  }
}
