export * from './turn-batcher';
export * from './flight-batcher';
export * from './setup-batch-interval';
