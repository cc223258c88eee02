export { PostfixServer } from './postfix-server';
export type { PostfixDovecot, PostfixServerOptions } from './postfix-server';
