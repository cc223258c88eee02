export * from './field-limits';
export * from './field-spec';
export * from './field-problem';
export * from './field.decorator';
export * from './id-param';
export * from './string-checks';
