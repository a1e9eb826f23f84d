import { TokenKeyring, verifyTrustSnapshot } from '@vitrine/credentials';
import type { TrustSnapshot, WatchTrustResponse } from '@vitrine/proto/access';
import type { Logger } from '@vitrine/rpc';
import { type RevocableCredential, Revocations } from './revocations.js';
import type { TrustFile } from './trust-file.js';

/**
 * What this center trusts, as the access service last told it: the token keys whose
 * credentials verify and the revocations in force. It changes only to a snapshot signed by
 * the configured trust key with a higher version than the one held, and every accepted
 * snapshot is kept on disk, so a restart with the access service down verifies as before.
 */
export class TrustState {
  readonly keyring = new TokenKeyring();
  #revocations = new Revocations();
  #version: bigint | undefined;
  #trusted: () => void = () => {};
  readonly #first = new Promise<void>((resolve) => {
    this.#trusted = resolve;
  });

  private constructor(
    private readonly trustKey: Uint8Array,
    private readonly file: TrustFile,
    private readonly logger: Logger,
  ) {}

  /** Opens the state from the stored snapshot, if there is one (verified like any other). */
  static async open(trustKey: Uint8Array, file: TrustFile, logger: Logger): Promise<TrustState> {
    const state = new TrustState(trustKey, file, logger);
    const stored = await file.read();
    if (stored) await state.#apply(await verifyTrustSnapshot(stored, trustKey));
    else logger.warn({ file: file.path }, 'no trust snapshot yet: every credential is refused');
    return state;
  }

  /**
   * Resolves true once a snapshot is in force, or false after `ms`: a center starting for
   * the first time waits a moment for the access service rather than refuse everyone.
   */
  async whenTrusted(ms: number): Promise<boolean> {
    if (this.#version !== undefined) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const trusted = await Promise.race([this.#first.then(() => true), timeout]);
    clearTimeout(timer);
    return trusted;
  }

  /** The version of the snapshot in force; undefined before the first. */
  get version(): bigint | undefined {
    return this.#version;
  }

  /**
   * Takes a snapshot received from the access service: verifies its signature, ignores it
   * unless it is newer than the one held, applies it at once (revocations bite from here)
   * and stores it. Returns whether it was applied; a bad signature throws.
   */
  async accept(signed: WatchTrustResponse): Promise<boolean> {
    const snapshot = await verifyTrustSnapshot(signed, this.trustKey);
    if (this.#version !== undefined && snapshot.version <= this.#version) return false;
    await this.#apply(snapshot);
    await this.file.write(signed);
    return true;
  }

  /** True when a revocation in force covers the credential. */
  isRevoked(credential: RevocableCredential): boolean {
    return this.#revocations.covers(credential);
  }

  async #apply(snapshot: TrustSnapshot): Promise<void> {
    await this.keyring.set(snapshot.keys.map((k) => k.publicKey));
    this.#revocations = new Revocations(snapshot.revokedCredentialIds);
    this.#version = snapshot.version;
    this.#trusted();
    this.logger.info(
      {
        version: snapshot.version.toString(),
        keys: snapshot.keys.length,
        revocations: snapshot.revokedCredentialIds.length,
      },
      'trust snapshot in force',
    );
  }
}
