export * from './failure-code';
export * from './failure-code.docs';
export * from './passed-through-codes';
export * from './error-message';
