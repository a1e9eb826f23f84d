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
  ActorKind,
  SignedAccessDecisionSchema,
} from '@vitrine/proto/access-decision';
import { type CosignatureTable, LogStore, type LogTables, type StoreDb } from '@vitrine/tlog-store';

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

/** Where the centers' cosignatures of the access log's checkpoints are kept (migration 0004). */
export const ACCESS_COSIGNATURES: CosignatureTable = {
  table: 'access_log_cosignatures',
  log: ACCESS_LOG,
};

/** Domain of a partner reference: SHA-256 of it ‖ the partner's id (`p-…`). */
export const PARTNER_REF_DOMAIN = 'vitrine/access-partner/v1\n';
/** Domain of a partner key reference: SHA-256 of it ‖ the partner's 32-byte public key. */
export const PARTNER_KEY_REF_DOMAIN = 'vitrine/access-partner-key/v1\n';
/** Domain of an operator reference: SHA-256 of it ‖ the operator's name. */
export const OPERATOR_REF_DOMAIN = 'vitrine/access-operator/v1\n';

const utf8 = new TextEncoder();
function domainDigest(domain: string, value: Uint8Array): Uint8Array {
  const prefix = utf8.encode(domain);
  const input = new Uint8Array(prefix.length + value.length);
  input.set(prefix);
  input.set(value, prefix.length);
  return sha256(input);
}

/** How the access log names a partner: SHA-256("vitrine/access-partner/v1\n" ‖ id). */
export function partnerRef(partnerId: string): Uint8Array {
  return domainDigest(PARTNER_REF_DOMAIN, utf8.encode(partnerId));
}

/** How the access log names a partner's key: SHA-256("vitrine/access-partner-key/v1\n" ‖ key). */
export function partnerKeyRef(publicKey: Uint8Array): Uint8Array {
  return domainDigest(PARTNER_KEY_REF_DOMAIN, publicKey);
}

/** How the access log names an operator: SHA-256("vitrine/access-operator/v1\n" ‖ name). */
export function operatorRef(name: string): Uint8Array {
  return domainDigest(OPERATOR_REF_DOMAIN, utf8.encode(name));
}

/**
 * A decision as its maker describes it, in the clear: `actor` is a principal's name
 * (`partner:<id>`, `operator:<name>`, absent for the service itself), `partnerId` and
 * `partnerPublicKey` the partner concerned. The log commits those by digest (`actor_kind`
 * and `actor_ref`, `partner_ref`, `partner_key_ref`) and gives the decision its index.
 */
export type DecisionInit = Omit<
  MessageInitShape<typeof AccessDecisionSchema>,
  'index' | '$typeName' | 'actorKind' | 'actorRef' | 'partnerRef' | 'partnerKeyRef'
> & {
  readonly actor?: string;
  readonly partnerId?: string;
  readonly partnerPublicKey?: Uint8Array;
};

/** The decision as the log records it: partner- and operator-identifying values by digest. */
export function committedDecision(
  init: DecisionInit,
): Omit<MessageInitShape<typeof AccessDecisionSchema>, 'index' | '$typeName'> {
  const { actor, partnerId, partnerPublicKey, ...rest } = init;
  return {
    ...rest,
    ...(actor ? actorFields(actor) : {}),
    ...(partnerId ? { partnerRef: partnerRef(partnerId) } : {}),
    ...(partnerPublicKey ? { partnerKeyRef: partnerKeyRef(partnerPublicKey) } : {}),
  };
}

function actorFields(actor: string): { actorKind: ActorKind; actorRef: Uint8Array } {
  const colon = actor.indexOf(':');
  const kind = actor.slice(0, colon);
  const id = actor.slice(colon + 1);
  if (colon > 0 && id !== '') {
    if (kind === 'partner') return { actorKind: ActorKind.PARTNER, actorRef: partnerRef(id) };
    if (kind === 'operator') return { actorKind: ActorKind.OPERATOR, actorRef: operatorRef(id) };
  }
  throw new VitrineError('internal', 'access decision names an actor of no known kind');
}

/**
 * The access service's transparency log: one leaf per decision — partner registered,
 * access requested, approved, denied, credential issued, revocation, key rotation,
 * operator credential issued — each a SignedAccessDecision by the trust key, appended in
 * the decision's own transaction, so a decision and its leaf commit or fail together.
 * Its tiles are public, so a leaf names no partner or operator in the clear: the log
 * commits them by digest (`committedDecision`).
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
      Promise.all(
        decisions.map((d, i) => this.#sign({ ...committedDecision(d), index: BigInt(first + i) })),
      ),
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
