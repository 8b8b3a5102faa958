import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { SigningKeyError } from './access-errors.ts';

/** An Ed25519 public key as a JSON Web Key, with its Baton key id. */
export interface PublicKeyJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  /** The raw 32-byte public key, base64url. */
  x: string;
  /** First 16 hex digits of sha256 over the raw public key. */
  kid: string;
}

/** A public key given as a KeyObject, a PEM text, a JWK, or a SigningKey. */
export type PublicKeyInput =
  KeyObject | string | PublicKeyJwk | { kty: string; crv?: string; x?: string } | SigningKey;

export interface SigningKeyOptions {
  /** The private key's PEM file (PKCS#8), as named in baton.config.ts. It must exist. */
  file?: string;
  /** Without `file`: where the deployment key is kept, created on first use. Default `.baton/keys`. */
  directory?: string;
}

export const DEFAULT_KEY_FILE_NAME = 'checkpoint-ed25519.pem';

/**
 * The deployment's Ed25519 key, which signs checkpoints of runs' hash chains. Keep the private key
 * file private (it is written with mode 0600); hand out the public key (`publicJwk`) to whoever
 * verifies exported audit bundles.
 */
export class SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly keyId: string;
  /** Where the key was read from or written to, when it came from a file. */
  readonly file: string | undefined;

  private constructor(privateKey: KeyObject, file: string | undefined) {
    if (privateKey.asymmetricKeyType !== 'ed25519') {
      throw new SigningKeyError(
        `The signing key${file ? ` in ${file}` : ''} is ${privateKey.asymmetricKeyType ?? 'not an asymmetric key'}; Baton signs with Ed25519.`,
      );
    }
    this.privateKey = privateKey;
    this.publicKey = createPublicKey(privateKey);
    this.keyId = keyIdOf(this.publicKey);
    this.file = file;
  }

  /** A fresh key held in memory only (tests, one-off exports). */
  static generate(): SigningKey {
    return new SigningKey(generateKeyPairSync('ed25519').privateKey, undefined);
  }

  static fromPem(pem: string, file?: string): SigningKey {
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch (cause) {
      throw new SigningKeyError(
        `${file ?? 'The signing key'} is not a PEM private key: ${(cause as Error).message}`,
        { cause },
      );
    }
    return new SigningKey(key, file);
  }

  /**
   * The deployment key: read from `file` when given (which must exist), otherwise from
   * `<directory>/checkpoint-ed25519.pem`, generated there on first use. Two processes racing to
   * create it end up with the same key (the file is created exclusively, the loser reads it).
   */
  static async open(options: SigningKeyOptions = {}): Promise<SigningKey> {
    if (options.file !== undefined) {
      const file = resolve(options.file);
      let pem: string;
      try {
        pem = await readFile(file, 'utf8');
      } catch (cause) {
        throw new SigningKeyError(
          `Cannot read the signing key ${file}: ${(cause as Error).message}. It is named in the configuration, so ` +
            `Baton does not make a new one (checkpoints signed by the old key would no longer verify).`,
          { cause },
        );
      }
      return SigningKey.fromPem(pem, file);
    }
    const file = resolve(join(options.directory ?? '.baton/keys', DEFAULT_KEY_FILE_NAME));
    const existing = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw new SigningKeyError(`Cannot read the signing key ${file}: ${error.message}`, { cause: error });
    });
    if (existing !== undefined) return SigningKey.fromPem(existing, file);
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await writeFile(file, pem, { mode: 0o600, flag: 'wx' });
      return SigningKey.fromPem(pem, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST')
        return SigningKey.fromPem(await readFile(file, 'utf8'), file);
      throw new SigningKeyError(`Cannot create the signing key ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  publicJwk(): PublicKeyJwk {
    return jwkOf(this.publicKey);
  }

  /** The public key as PEM (SPKI), for `--key` options and people. */
  publicPem(): string {
    return this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }
}

/** The Baton key id of an Ed25519 public key. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(rawPublicKey(publicKey)).digest('hex').slice(0, 16);
}

function rawPublicKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
    throw new SigningKeyError('The public key is not an Ed25519 key.');
  }
  return Buffer.from(jwk.x, 'base64url');
}

export function jwkOf(publicKey: KeyObject): PublicKeyJwk {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
    throw new SigningKeyError('The public key is not an Ed25519 key.');
  }
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: keyIdOf(publicKey) };
}

/** Reads a public key from any of the forms Baton accepts (a private key's PEM gives its public half). */
export function toPublicKey(input: PublicKeyInput): KeyObject {
  if (input instanceof SigningKey) return input.publicKey;
  if (input instanceof KeyObject) return input.type === 'private' ? createPublicKey(input) : input;
  try {
    if (typeof input === 'string') return createPublicKey(input);
    const { kty, crv, x } = input;
    return createPublicKey({ key: { kty, crv, x }, format: 'jwk' });
  } catch (cause) {
    throw new SigningKeyError(`The public key cannot be read: ${(cause as Error).message}`, { cause });
  }
}
