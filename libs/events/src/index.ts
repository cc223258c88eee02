export * from './event-id';
export * from './events.module';
export * from './mail-event.types';
export * from './mail-events.publisher';
