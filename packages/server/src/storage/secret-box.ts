// Seals secrets that must be stored readable (upstream API keys; later action credentials):
// AES-256-GCM under a key derived from ATELIER_SECRET_KEY or `<data>/secret.key`, which is created
// with random bytes on first start. Each sealed value is bound to its context (e.g. the upstream's
// name), so a ciphertext copied into another row does not open there.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AtelierError, ConfigError } from '../errors.js';

/** A sealed secret as stored: `v1.<base64url of iv | ciphertext | tag>`. Only `seal` makes one. */
export type SealedSecret = string & { readonly __sealed: unique symbol };

export interface SecretBox {
  seal(plaintext: string, options: { context: string }): SealedSecret;
  /** Throws a SecretUnreadableError when the key changed or the value was tampered with. */
  open(sealed: SealedSecret, options: { context: string }): string;
}

export class SecretUnreadableError extends AtelierError {
  constructor(message: string) {
    super(message, { status: 500, code: 'secret_unreadable' });
  }
}

export const SECRET_KEY_FILE = 'secret.key';
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function createSecretBox(secret: string | Uint8Array): SecretBox {
  const key = Buffer.from(hkdfSync('sha256', secret, 'atelier-secret-box', VERSION, 32));
  return {
    seal(plaintext, { context }) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const packed = Buffer.concat([iv, body, cipher.getAuthTag()]);
      return `${VERSION}.${packed.toString('base64url')}` as SealedSecret;
    },
    open(sealed, { context }) {
      const [version, payload] = sealed.split('.', 2);
      const packed = Buffer.from(payload ?? '', 'base64url');
      if (version !== VERSION || packed.length < IV_BYTES + TAG_BYTES) {
        throw new SecretUnreadableError(
          `The stored secret of ${context} is not in a format this version reads.`,
        );
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, packed.subarray(0, IV_BYTES));
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(packed.subarray(packed.length - TAG_BYTES));
        const body = packed.subarray(IV_BYTES, packed.length - TAG_BYTES);
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretUnreadableError(
          `The stored secret of ${context} cannot be opened: the secret key (ATELIER_SECRET_KEY or <data>/${SECRET_KEY_FILE}) changed since it was stored. Store it again.`,
        );
      }
    },
  };
}

/**
 * The box for this installation: from `secretKey` when given (several nodes sharing a database
 * must share it), else from `<dataDir>/secret.key`, created (mode 0600) when missing.
 */
export async function loadSecretBox({
  dataDir,
  secretKey = undefined,
}: {
  dataDir: string;
  secretKey?: string | undefined;
}): Promise<SecretBox> {
  if (secretKey !== undefined) return createSecretBox(secretKey);
  const file = path.join(dataDir, SECRET_KEY_FILE);
  try {
    return createSecretBox(await readKeyFile(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  try {
    // 'wx': two processes starting at once must not each write a different key.
    await writeFile(file, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new ConfigError(`Cannot create the secret key ${file}: ${(error as Error).message}`);
    }
  }
  return createSecretBox(await readKeyFile(file));
}

async function readKeyFile(file: string): Promise<string> {
  const text = (await readFile(file, 'utf8')).trim();
  if (text.length < 32) {
    throw new ConfigError(`The secret key ${file} is too short: it must hold at least 32 characters.`);
  }
  return text;
}
