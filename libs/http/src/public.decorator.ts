import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'mail-listener:public';

/**
 * Marks a handler or controller that is called without our API key: Microsoft's Graph receiver, the
 * OAuth callback a browser lands on, and the scrape/probe endpoints (`/metrics`, `/health/*`). Everything
 * else is refused without a key (ApiKeyGuard denies by default).
 */
export const Public = () => SetMetadata(IS_PUBLIC, true);
