export { bytesEqual, fromHex, sha256, toHex } from './digest.js';
export { loadOrCreateKeyFile, readKeyFile, writeKeyFile } from './key-file.js';
export { readSecretFile, writeSecretFile } from './secret-file.js';
export {
  generateSigningKeyPair,
  type SignatureDomain,
  SignatureError,
  type SigningKeyPair,
  signDetached,
  verifyDetached,
} from './signing.js';
export { loadSodium } from './sodium.js';
