import { create, fromBinary, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import {
  type SignatureDomain,
  type SigningKeyPair,
  sha256,
  signDetached,
  verifyDetached,
} from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import {
  type AccessDecision,
  AccessDecisionSchema,
  SignedAccessDecisionSchema,
} from '@vitrine/proto/access-decision';
import { LogStore, type LogTables, type StoreDb } from '@vitrine/tlog-store';

/**
 * Domain of the access service's signature over an AccessDecision. No checkpoint's first
 * line has this shape, so a decision signature and a checkpoint signature by the same
 * (trust) key never stand in for each other, nor for a trust snapshot's (`vitrine/trust/v1`).
 */
export const DECISION_DOMAIN: SignatureDomain = 'vitrine/access-decision/v1\n';

/** Where the access log lives in the access service's database (migration 0003). */
export const ACCESS_LOG_TABLES: LogTables = {
  nodes: 'access_log_nodes',
  leaves: 'access_log_leaves',
  heads: 'access_log_heads',
  checkpoints: 'access_log_checkpoints',
};

/** The access log's name in its tables. */
const ACCESS_LOG = 'access';

/** A decision as its maker describes it; the log gives it its index. */
export type DecisionInit = Omit<
  MessageInitShape<typeof AccessDecisionSchema>,
  'index' | '$typeName'
>;

/**
 * The access service's transparency log: one leaf per decision — partner registered,
 * access requested, approved, denied, credential issued, revocation, key rotation,
 * operator credential issued — each a SignedAccessDecision by the trust key, appended in
 * the decision's own transaction, so a decision and its leaf commit or fail together.
 */
export class DecisionLog {
  readonly store: LogStore;

  constructor(
    db: StoreDb,
    private readonly trustKey: SigningKeyPair,
  ) {
    this.store = new LogStore(db, { tables: ACCESS_LOG_TABLES, log: ACCESS_LOG });
  }

  /** Makes the log's head row on a fresh database. */
  init(): Promise<void> {
    return this.store.init();
  }

  /**
   * Appends the decisions, in order, inside `tx`. Call it last in the transaction: it
   * locks the log's head until the transaction ends, serialising decisions.
   */
  async record(tx: StoreDb, ...decisions: DecisionInit[]): Promise<void> {
    await this.store.append(tx, decisions.length, (first) =>
      Promise.all(decisions.map((d, i) => this.#sign({ ...d, index: BigInt(first + i) }))),
    );
  }

  async #sign(init: MessageInitShape<typeof AccessDecisionSchema>): Promise<Uint8Array> {
    const decision = toBinary(AccessDecisionSchema, create(AccessDecisionSchema, init));
    const signature = await signDetached(this.trustKey, DECISION_DOMAIN, decision);
    return toBinary(
      SignedAccessDecisionSchema,
      create(SignedAccessDecisionSchema, { decision, signature }),
    );
  }
}

/** SHA-256 of a PASETO token's text, as a credential-issued decision names the token. */
export function tokenDigest(token: string): Uint8Array {
  return sha256(new TextEncoder().encode(token));
}

/**
 * Opens a leaf of the access log: decodes the SignedAccessDecision, checks the signature
 * by the trust key over the decision bytes exactly as stored, then decodes the decision.
 * `data_loss` when it does not decode or verify.
 */
export async function openDecisionLeaf(
  leaf: Uint8Array,
  trustPublicKey: Uint8Array,
): Promise<AccessDecision> {
  let signed: { decision: Uint8Array; signature: Uint8Array };
  try {
    signed = fromBinary(SignedAccessDecisionSchema, leaf);
  } catch (err) {
    throw new VitrineError('data_loss', 'access log leaf does not decode', { cause: err });
  }
  await verifyDetached(trustPublicKey, DECISION_DOMAIN, signed.decision, signed.signature);
  try {
    return fromBinary(AccessDecisionSchema, signed.decision);
  } catch (err) {
    throw new VitrineError('data_loss', 'access decision is signed but does not decode', {
      cause: err,
    });
  }
}
