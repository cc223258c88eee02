export * from './control-messages';
export * from './control-redis.client';
export * from './control-redis.server';
export * from './control-transport';
export * from './control.module';
export * from './mailbox-announcer';
