import type { ColumnType, Generated } from 'kysely';

/**
 * The registry's tables. `events` is the source of truth; every other table is state
 * derived from it by `applyEvent`, so two centers holding the same events hold the same
 * state. int8 columns are `bigint` and bytea `Uint8Array` on both PGlite and PostgreSQL.
 */
export interface RegistryDatabase {
  events: EventTable;
  log_heads: LogHeadTable;
  artifacts: ArtifactTable;
  artifact_chunks: ArtifactChunkTable;
  chunks: ChunkTable;
  findings: FindingTable;
  finding_artifacts: FindingArtifactTable;
  finding_field_versions: FindingFieldVersionTable;
  finding_history: FindingHistoryTable;
  finding_field_writes: FindingFieldWriteTable;
  comments: CommentTable;
  log_nodes: LogNodeTable;
  log_checkpoints: LogCheckpointTable;
  log_evidence: LogEvidenceTable;
  witness_state: WitnessStateTable;
  log_cosignatures: LogCosignatureTable;
  unapplied_events: UnappliedEventTable;
  proof_nonces: ProofNonceTable;
  finding_changes: FindingChangeTable;
}

export interface EventTable {
  origin: string;
  seq: bigint;
  /** This center's append order: the leaf index of its transparency log. */
  position: Generated<bigint>;
  hlc: bigint;
  /** Where the body may be held; empty means everywhere. */
  residency: string[];
  /** The EventHeader bytes the origin signed. */
  header: Uint8Array;
  signature: Uint8Array;
  /** SHA-256 of `header`: the hash-chain link and transparency-log leaf. */
  digest: Uint8Array;
  /** Which change the body holds; null with the body when residency withholds it here. */
  body_case: string | null;
  body: Uint8Array | null;
}

/** Per origin: the highest contiguous sequence held, its digest, and the latest HLC seen. */
export interface LogHeadTable {
  origin: string;
  seq: bigint;
  digest: Uint8Array;
  hlc: bigint;
}

export interface ArtifactTable {
  id: string;
  kind: string;
  product: string;
  version: string;
  size: bigint;
  content_digest: Uint8Array;
  chunk_count: number;
  residency: string[];
  supersedes: string;
  /** Whether its publisher allowed it where the artifact it supersedes was not allowed. */
  residency_widened: ColumnType<boolean, boolean | undefined, boolean>;
  origin: string;
  published_hlc: bigint;
  manifest: Uint8Array;
  manifest_signature: Uint8Array;
  state: 'available' | 'replicating';
  bytes_held: bigint;
}

export interface ArtifactChunkTable {
  artifact_id: string;
  idx: number;
  digest: Uint8Array;
  size: number;
  offset: bigint;
}

/** Chunks this center holds in its chunk store, verified when written. */
export interface ChunkTable {
  digest: Uint8Array;
  size: number;
}

export interface FindingTable {
  id: string;
  origin: string;
  /**
   * The number in its id (`<origin>-<number>`), which its origin counts up from 1; null
   * for an id not of that form.
   */
  number: bigint | null;
  title: string;
  description: string;
  severity: string;
  cvss_vector: string;
  /** The score of `cvss_vector`, written with it; null without a vector. */
  cvss_score: ColumnType<number | null, number | null | undefined, number | null>;
  /** Why `severity` differs from the score's band, written with it; '' when they agree. */
  severity_reason: ColumnType<string, string | undefined, string>;
  status: string;
  assignee: string;
  fix_artifact_id: string;
  /** The finding this one duplicates; '' for none. */
  duplicate_of: ColumnType<string, string | undefined, string>;
  /** The residency of the artifacts it concerns: its events follow it. */
  residency: string[];
  created_hlc: bigint;
  updated_hlc: bigint;
  comment_count: ColumnType<number, number | undefined, number>;
  /** The scanner rule it was imported from; '' when recorded by hand. */
  rule_id: ColumnType<string, string | undefined, string>;
  /** The scanner that reported it; '' when recorded by hand. */
  tool: ColumnType<string, string | undefined, string>;
  /** The import key (finding-import.ts); '' when recorded by hand. */
  fingerprint: ColumnType<string, string | undefined, string>;
  /** JSON array of `{ path, startLine, endLine }`, in the scanner's order. */
  locations: ColumnType<string, string | undefined, string>;
  /** A later artifact whose scan no longer reports it; '' while every scan does. */
  candidate_fix_artifact_id: ColumnType<string, string | undefined, string>;
  /** HLC of the earliest event that set status triaged; null while none did. */
  triaged_hlc: ColumnType<bigint | null, bigint | null | undefined, bigint | null>;
  /** HLC of the latest event that set status fixed; null while none did. */
  fixed_hlc: ColumnType<bigint | null, bigint | null | undefined, bigint | null>;
  /** Planned disclosure date (RFC 3339 UTC) as its event carried it; '' for none. */
  disclose_after: ColumnType<string, string | undefined, string>;
}

export interface FindingArtifactTable {
  finding_id: string;
  artifact_id: string;
}

/** Last-writer-wins register clock of each finding field: (hlc, origin) of its value. */
export interface FindingFieldVersionTable {
  finding_id: string;
  field: string;
  hlc: bigint;
  origin: string;
}

/** The events that touched a finding, and which of their fields lost to a later write. */
export interface FindingHistoryTable {
  finding_id: string;
  origin: string;
  seq: bigint;
  hlc: bigint;
  overwritten_fields: string[];
}

export interface CommentTable {
  id: string;
  finding_id: string;
  text: string;
  author: string;
  origin: string;
  hlc: bigint;
}

/** One write of a finding field, and the write of that field its author had seen. */
export interface FindingFieldWriteTable {
  finding_id: string;
  field: string;
  hlc: bigint;
  origin: string;
  /** 0 and '' when the author had seen no earlier write (the finding's creation). */
  seen_hlc: bigint;
  seen_origin: string;
}

/** A complete subtree of an origin's transparency log: 2^level leaves from idx·2^level. */
export interface LogNodeTable {
  origin: string;
  level: number;
  idx: bigint;
  hash: Uint8Array;
}

/**
 * Evidence that an origin's log was forked or rolled back: what was seen (a checkpoint the
 * origin signed) and, where there is one, the signed statement it contradicts. While any is
 * not resumed, the origin's events are refused.
 */
export interface LogEvidenceTable {
  id: Generated<bigint>;
  origin: string;
  /**
   * `bad-proof`: a checkpoint the origin signed came to this center's witness with a
   * consistency proof that does not verify. Kept, but the origin's events are not refused on
   * it alone: the proof lines are nobody's signed statement.
   */
  kind: 'fork' | 'rollback' | 'inconsistent' | 'bad-proof';
  message: string;
  note: string;
  other_note: string | null;
  observed_at: ColumnType<Date, Date | undefined, never>;
  /** When an operator resumed taking the origin's events despite it, and who. */
  resumed_at: Date | null;
  resumed_by: string | null;
}

/** A signed checkpoint (C2SP tlog-checkpoint in a signed note) of an origin's log. */
export interface LogCheckpointTable {
  origin: string;
  size: bigint;
  root: Uint8Array;
  note: string;
  signed_at: ColumnType<Date, Date | undefined, never>;
}

/** The latest checkpoint this center's witness cosigned of a log (by its origin line). */
export interface WitnessStateTable {
  origin: string;
  size: bigint;
  root: Uint8Array;
  /** The checkpoint as the log signed it. */
  note: string;
  cosigned_at: ColumnType<Date, Date | undefined, Date>;
}

/** A peer witness's cosignature of one of this center's checkpoints: one signature line. */
export interface LogCosignatureTable {
  /** The center id, as in log_checkpoints. */
  origin: string;
  size: bigint;
  /** The witness key's name. */
  witness: string;
  /** The whole cosignature/v1 signature line, newline included. */
  line: string;
  received_at: ColumnType<Date, Date | undefined, never>;
}

/**
 * An event stored but not yet applied to the derived state: its body is still awaited from a
 * peer, or it waits behind an earlier event whose body is (state is derived in log order).
 */
export interface UnappliedEventTable {
  origin: string;
  seq: bigint;
  awaiting_body: boolean;
}

/** Nonces of accepted proofs of possession, shared by every registry process of a center. */
export interface ProofNonceTable {
  /** SHA-256 over the proof's binding and nonce. */
  key: Uint8Array;
  /** Unix ms after which the proof is stale anyway and the row may go. */
  expires_at: bigint;
}

/**
 * A finding change as this center applied it (created, updated, commented), at a local
 * position: the order WatchFindings streams in, assigned under this center's log-head lock.
 */
export interface FindingChangeTable {
  position: Generated<bigint>;
  finding_id: string;
  origin: string;
  seq: bigint;
  /** `created`, `updated` or `commented`. */
  change: string;
  /** The finding's status and severity once the change was applied (storage words). */
  status: string;
  severity: string;
  /** The finding once the change was applied: a `Finding` message, protobuf binary. */
  finding: Uint8Array;
}
