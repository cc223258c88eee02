import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';

const RELEASE_IF_OWNER = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * A short-lived mutual-exclusion lock in Redis (SET NX PX). It expires by itself if its holder dies;
 * release only deletes it while the holder still owns it, so a slow holder cannot free someone else's.
 */
export class RedisLock {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'mail-listener:lock:',
  ) {}

  /** Runs `work` while holding `name`; returns undefined without running it when another holder has it. */
  async withLock<T>(name: string, ttlMs: number, work: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    const key = this.prefix + name;
    const owner = randomUUID();
    const acquired = await this.redis.set(key, owner, 'PX', ttlMs, 'NX');
    if (acquired !== 'OK') return { ran: false };
    try {
      return { ran: true, value: await work() };
    } finally {
      await this.redis.eval(RELEASE_IF_OWNER, 1, key, owner).catch(() => undefined);
    }
  }

  async isHeld(name: string): Promise<boolean> {
    return (await this.redis.exists(this.prefix + name)) === 1;
  }

  /** Marks `name` as alive for `ttlMs` (a heartbeat others can check with isHeld). */
  async touch(name: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.prefix + name, '1', 'PX', ttlMs);
  }

  async clear(name: string): Promise<void> {
    await this.redis.del(this.prefix + name);
  }
}
