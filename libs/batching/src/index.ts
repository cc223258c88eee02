export * from './turn-batcher';
export * from './flight-batcher';
