/**
 * The access service's tables. Requests, decisions, credentials and revocations are
 * append-mostly and never deleted: they are the record of who was granted what, by whom
 * and when. timestamptz columns are `Date`, int8 `bigint`, bytea `Uint8Array`.
 */
export interface AccessDatabase {
  partners: PartnerTable;
  operators: OperatorTable;
  access_requests: AccessRequestTable;
  decisions: DecisionTable;
  credentials: CredentialTable;
  revocations: RevocationTable;
  token_keys: TokenKeyTable;
  trust_state: TrustStateTable;
}

export interface PartnerTable {
  id: string;
  organisation: string;
  jurisdictions: string[];
  contact: string;
  public_key: Uint8Array;
  registered_at: Date;
}

/** Mirrors the config's operator accounts (upserted at start). */
export interface OperatorTable {
  name: string;
  roles: string[];
  public_key: Uint8Array;
}

export interface AccessRequestTable {
  id: string;
  partner_id: string;
  /** `partner:<id>` or `operator:<name>`: never allowed to decide this request. */
  requested_by: string;
  jurisdiction: string;
  scope_kinds: string[];
  scope_products: string[];
  scope_artifacts: string[];
  scope_actions: string[];
  /** The window asked for; null start means "from approval". */
  not_before: Date | null;
  expires_at: Date;
  justification: string;
  state: 'pending' | 'approved' | 'denied';
  approvals_required: number;
  created_at: Date;
  credential_id: string | null;
}

export interface DecisionTable {
  request_id: string;
  /** `operator:<name>`. */
  approver: string;
  approve: boolean;
  reason: string;
  at: Date;
}

/** Every credential issued: its claims' key facts and the token (useless without the holder's key). */
export interface CredentialTable {
  id: string;
  /** `partner:<id>` or `operator:<name>`. */
  subject: string;
  partner_id: string | null;
  request_id: string | null;
  key_id: string;
  token: string;
  issued_at: Date;
  not_before: Date;
  expires_at: Date;
}

export interface RevocationTable {
  id: string;
  target: 'credential' | 'partner' | 'key';
  /** The credential id, partner id or key id revoked. */
  target_id: string;
  /** The partner the revocation concerns, for listing by partner. */
  partner_id: string | null;
  reason: string;
  revoked_by: string;
  at: Date;
}

/** Token signing keys: the public half and state; the secret half is `keys/token-<seq>.key`. */
export interface TokenKeyTable {
  key_id: string;
  seq: number;
  public_key: Uint8Array;
  created_at: Date;
  /** When a newer key took over signing; null for the active key. */
  retired_at: Date | null;
  /** When a revocation by key id took it out of every snapshot. */
  revoked_at: Date | null;
}

/** One row: the trust snapshot's version, bumped in the transaction of every change. */
export interface TrustStateTable {
  id: number;
  version: bigint;
}
