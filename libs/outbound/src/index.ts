export * from './address-classes';
export * from './outbound-address-refused.error';
export * from './outbound-http';
export * from './outbound-policy';
export * from './outbound.module';
