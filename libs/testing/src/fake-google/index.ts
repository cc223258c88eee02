export { FakeGoogleOAuth } from './fake-google-oauth';
export type {
  FakeGoogleEndpoints,
  FakeGoogleOptions,
  GoogleIssuedAccessToken,
  GoogleTokenFailure,
  GoogleTokenRequest,
  RegisterGoogleAppInput,
} from './fake-google-oauth';
