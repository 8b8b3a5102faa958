import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { SigningKeyError } from './access-errors.ts';
import type { SigningOptions } from './checkpoint-signer.ts';
import { DEFAULT_KEY_FILE_NAME, toPublicKey } from './signing-key.ts';

/**
 * The signing options of a project's config with their paths made absolute against the project's
 * directory (the config file's), so a worker started anywhere uses the project's key.
 */
export function resolveSigningOptions(signing: SigningOptions, projectDir: string): SigningOptions {
  const absolute = (path: string): string => (isAbsolute(path) ? path : resolve(projectDir, path));
  return {
    ...signing,
    ...(signing.keyFile === undefined ? {} : { keyFile: absolute(signing.keyFile) }),
    ...(signing.witness === undefined ? {} : { witness: absolute(signing.witness) }),
    keyDirectory: absolute(signing.keyDirectory ?? '.baton/keys'),
  };
}

/**
 * The public key to verify with, and where it came from: `keyFile` (a public or private PEM, or a
 * JWK as JSON), else the deployment key the config names, else `<project>/.baton/keys/`. Never
 * creates a key; undefined when there is none.
 */
export async function findVerificationKey(options: {
  keyFile?: string;
  signing?: SigningOptions;
  projectDir: string;
}): Promise<{ key: KeyObject; source: string } | undefined> {
  if (options.keyFile !== undefined) {
    const file = resolve(options.keyFile);
    return { key: await readPublicKey(file), source: file };
  }
  if (options.signing?.key) return { key: options.signing.key.publicKey, source: 'the configured key' };
  const signing = resolveSigningOptions(options.signing ?? {}, options.projectDir);
  const file = signing.keyFile ?? join(signing.keyDirectory!, DEFAULT_KEY_FILE_NAME);
  try {
    return { key: await readPublicKey(file), source: file };
  } catch (error) {
    if (
      (error as { cause?: NodeJS.ErrnoException }).cause?.code === 'ENOENT' &&
      signing.keyFile === undefined
    )
      return undefined;
    throw error;
  }
}

async function readPublicKey(file: string): Promise<KeyObject> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new SigningKeyError(`Cannot read the key ${file}: ${(cause as Error).message}`, { cause });
  }
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let jwk: unknown;
    try {
      jwk = JSON.parse(trimmed);
    } catch (cause) {
      throw new SigningKeyError(`${file} is neither a PEM key nor a JSON Web Key.`, { cause });
    }
    return toPublicKey(jwk as { kty: string });
  }
  return toPublicKey(trimmed);
}
