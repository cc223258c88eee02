export * from './assignment/rendezvous';
export * from './cluster.module';
export * from './replica-heartbeat';
export * from './replica-liveness';
export * from './replica-registry';
export * from './leases/mailbox-lease.repository';
