// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import {
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  PemConverter,
  SubjectAlternativeNameExtension,
  type X509Certificate,
  X509CertificateGenerator,
} from '@peculiar/x509';

/** ECDSA P-256 with SHA-256: small keys, fast to make, accepted by every TLS stack. */
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** Test certificates live a day: long enough for any run, useless if one leaks. */
const VALID_MS = 24 * 60 * 60 * 1000;

/** A certificate and its private key, both PEM, as TLS options and config files take them. */
export interface TestKeyPair {
  readonly cert: string;
  readonly key: string;
}

/** A throwaway certificate authority that issues certificates for tests. */
export interface TestCertificateAuthority {
  /** The CA certificate (PEM): the bundle peers trust. */
  readonly cert: string;
  /**
   * A certificate for `name` valid for both ends of a mutual TLS connection (serverAuth
   * and clientAuth), with the loopback addresses and `localhost` as its names, and the IP
   * addresses in `addresses` for a host reached at another address.
   */
  issue(name: string, addresses?: readonly string[]): Promise<TestKeyPair>;
}

function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  return PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

function validity(): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - 60_000), notAfter: new Date(now + VALID_MS) };
}

/**
 * Creates a CA for one test run with node's WebCrypto and @peculiar/x509, so TLS tests
 * need no openssl binary on the machine that runs them.
 */
export async function createTestCertificateAuthority(
  name = 'vitrine test CA',
): Promise<TestCertificateAuthority> {
  const caKeys = await newKeys();
  const ca: X509Certificate = await X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    keys: caKeys,
    signingAlgorithm: ALGORITHM,
    ...validity(),
    extensions: [
      new BasicConstraintsExtension(true, 0, true),
      new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
    ],
  });
  return {
    cert: ca.toString('pem'),
    async issue(subject, addresses = []) {
      const keys = await newKeys();
      const cert = await X509CertificateGenerator.create({
        subject: `CN=${subject}`,
        issuer: ca.subject,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        signingAlgorithm: ALGORITHM,
        ...validity(),
        extensions: [
          new BasicConstraintsExtension(false),
          new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
          new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth, ExtendedKeyUsage.clientAuth]),
          new SubjectAlternativeNameExtension([
            { type: 'ip', value: '127.0.0.1' },
            { type: 'ip', value: '::1' },
            { type: 'dns', value: 'localhost' },
            ...addresses.map((value) => ({ type: 'ip' as const, value })),
          ]),
        ],
      });
      return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
    },
  };
}
