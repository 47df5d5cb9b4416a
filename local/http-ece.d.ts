/** The part of `http_ece` (RFC 8188 / RFC 8291 encrypted content-encoding; no published types) the push service uses. */
declare module 'http_ece' {
  import type { ECDH } from 'node:crypto';

  interface EceParams {
    version?: 'aes128gcm' | 'aesgcm' | 'aesgcm128';
    /** The receiver's ECDH key pair. */
    privateKey?: ECDH;
    /** base64url or bytes. */
    authSecret?: string | Buffer;
    dh?: string | Buffer;
    keyid?: string | Buffer;
    salt?: string | Buffer;
    rs?: number;
  }
  const ece: {
    decrypt(buffer: Buffer, params: EceParams): Buffer;
    encrypt(buffer: Buffer, params: EceParams): Buffer;
  };
  export default ece;
}
