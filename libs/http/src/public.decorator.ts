import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'mail-listener:public';

/** Marks a /v1 route that Microsoft or a browser calls without our API key (Graph receiver, OAuth callback). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
