export * from './api-key.guard';
export * from './api-key.matcher';
export * from './body-parsing';
export * from './http-exception.filter';
export * from './public.decorator';
export * from './validation';
export * from './pagination';
export * from './dev-api-key';
