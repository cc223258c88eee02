import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';

/** RSA JWK as published in a JWKS document (Entra and Google publish x5t/x5c alongside n/e). */
export interface RsaJwk {
  kty: 'RSA';
  use: 'sig';
  alg: 'RS256';
  kid: string;
  x5t: string;
  n: string;
  e: string;
  x5c: string[];
}

export function base64url(input: Buffer | string): string {
  return Buffer.from(input).toString('base64url');
}

export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** Decodes the payload of a compact JWT without checking anything (tests use it to look inside tokens). */
export function decodeJwtPayload<T = Record<string, unknown>>(token: string): T {
  const part = token.split('.')[1];
  if (!part) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as T;
}

/**
 * An RS256 signing key with a self-signed certificate around it, as identity providers publish:
 * kid = x5t = base64url SHA-1 thumbprint of the certificate, x5c = the certificate.
 */
export class SigningKey {
  private constructor(
    private readonly privateKey: KeyObject,
    readonly jwk: RsaJwk,
    readonly certificatePem: string,
  ) {}

  get kid(): string {
    return this.jwk.kid;
  }

  static async generate(commonName: string): Promise<SigningKey> {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pems = await generate([{ name: 'commonName', value: commonName }], {
      keySize: 2048,
      algorithm: 'sha256',
      keyPair: {
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
      notAfterDate: new Date(Date.now() + 5 * 365 * 24 * 3600 * 1000),
    });
    const cert = new X509Certificate(pems.cert);
    const x5t = base64url(createHash('sha1').update(cert.raw).digest());
    const jwkRaw = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
    const jwk: RsaJwk = {
      kty: 'RSA',
      use: 'sig',
      alg: 'RS256',
      kid: x5t,
      x5t,
      n: jwkRaw.n,
      e: jwkRaw.e,
      x5c: [cert.raw.toString('base64')],
    };
    return new SigningKey(privateKey, jwk, pems.cert);
  }

  /** Compact RS256 JWS over the JSON payload. */
  sign(payload: Record<string, unknown>, extraHeader: Record<string, unknown> = {}): string {
    const header = { typ: 'JWT', alg: 'RS256', kid: this.jwk.kid, ...extraHeader };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
    const signature = sign('sha256', Buffer.from(signingInput), this.privateKey);
    return `${signingInput}.${base64url(signature)}`;
  }
}

/** OIDC at_hash / c_hash: base64url of the left half of the SHA-256 of the token. */
export function halfHash(value: string): string {
  const digest = createHash('sha256').update(value).digest();
  return base64url(digest.subarray(0, digest.length / 2));
}
