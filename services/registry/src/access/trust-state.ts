import { TokenKeyring, verifyTrustSnapshot } from '@vitrine/credentials';
import type { TrustSnapshot, WatchTrustResponse } from '@vitrine/proto/access';
import type { Logger } from '@vitrine/rpc';
import type { AccessLogAudit, HeldSnapshot } from './access-log-audit.js';
import { type RevocableCredential, Revocations } from './revocations.js';
import type { TrustFile } from './trust-file.js';

/**
 * What this center trusts, as the access service last told it: the token keys whose
 * credentials verify and the revocations in force. It changes only to a snapshot signed by
 * the configured trust key with a higher version than the one held, and every accepted
 * snapshot is kept on disk, so a restart with the access service down verifies as before.
 * With an audit, every newer snapshot's access log size and root are then held to the last
 * checked snapshot's (`AccessLogAudit`); the snapshot is applied first, whatever the audit
 * finds, so that its revocations bite at once, and a finding is kept as evidence.
 */
export class TrustState {
  readonly keyring = new TokenKeyring();
  #revocations = new Revocations();
  #version: bigint | undefined;
  /** The last snapshot whose access log size and root were checked (or the stored one). */
  #audited: HeldSnapshot | undefined;
  #trusted: () => void = () => {};
  readonly #first = new Promise<void>((resolve) => {
    this.#trusted = resolve;
  });

  private constructor(
    private readonly trustKey: Uint8Array,
    private readonly file: TrustFile,
    private readonly logger: Logger,
    private readonly audit: AccessLogAudit | undefined,
  ) {}

  /** Opens the state from the stored snapshot, if there is one (verified like any other). */
  static async open(
    trustKey: Uint8Array,
    file: TrustFile,
    logger: Logger,
    audit?: AccessLogAudit,
  ): Promise<TrustState> {
    const state = new TrustState(trustKey, file, logger, audit);
    const stored = await file.read();
    if (stored) {
      const snapshot = await verifyTrustSnapshot(stored, trustKey);
      await state.#apply(snapshot);
      state.#audited = { snapshot, signed: stored };
    } else logger.warn({ file: file.path }, 'no trust snapshot yet: every credential is refused');
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

  /** The access log's size and root as last checked against the snapshots; undefined before the first. */
  get accessLog(): { size: bigint; root: Uint8Array } | undefined {
    const held = this.#audited?.snapshot;
    return held && { size: held.accessLogSize, root: held.accessLogRoot };
  }

  /**
   * Takes a snapshot received from the access service: verifies its signature, ignores it
   * unless it is newer than the one held, applies it at once (revocations bite from here),
   * stores it, then holds the access log it names to the last one checked (with an audit).
   * Returns whether it was applied; a bad signature throws.
   */
  async accept(signed: WatchTrustResponse): Promise<boolean> {
    const snapshot = await verifyTrustSnapshot(signed, this.trustKey);
    if (this.#version !== undefined && snapshot.version <= this.#version) return false;
    await this.#apply(snapshot);
    await this.file.write(signed);
    const next = { snapshot, signed };
    if (this.audit === undefined || (await this.audit.check(this.#audited, next))) {
      this.#audited = next;
    }
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
