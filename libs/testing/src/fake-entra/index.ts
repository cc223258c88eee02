export { FakeEntraId } from './fake-entra-id';
export type {
  AddEntraUserInput,
  EntraDeviceCode,
  EntraIntrospection,
  EntraTokenRequest,
  FakeEntraOptions,
  GrantRevocationKind,
  RegisterEntraAppInput,
  TokenEndpointFailure,
} from './fake-entra-id';
export { MSA_TENANT_ID } from './tokens';
export type { EntraIssuedAccessToken, FakeEntraApp, FakeEntraUser } from './tokens';
export type { AadErrorBody } from './aadsts-errors';
export { decodeJwtPayload } from './jwt';
