import { Action, RequestState } from './gen/vitrine/access/v1/access_pb.js';
import { ArtifactKind, ArtifactState } from './gen/vitrine/registry/v1/artifact_pb.js';
import { FindingStatus, Severity, SlaState } from './gen/vitrine/registry/v1/finding_pb.js';

/**
 * The one table between proto enums and the words vitrine uses for them in storage, in
 * `--json` output and on the command line: `source`, `high`, `in_progress` — the value's
 * name without the enum's shared prefix, lower-case. Flags accept exactly these words and
 * output prints them, so neither ever shows `SEVERITY_HIGH` or a bare number. A test holds
 * every table to the enum's declared values, so a value added to a proto must be added here.
 */
export class EnumWords<W extends string, E extends number> {
  readonly words: readonly W[];
  readonly #byWord: ReadonlyMap<string, E>;
  readonly #byValue: ReadonlyMap<number, W>;

  constructor(pairs: readonly (readonly [W, E])[]) {
    this.words = pairs.map(([word]) => word);
    this.#byWord = new Map(pairs);
    this.#byValue = new Map(pairs.map(([word, value]) => [value, word]));
  }

  /** The enum value for a word already checked against `words` (a flag's choices). */
  value(word: W): E {
    const value = this.#byWord.get(word);
    if (value === undefined) throw new Error(`unknown word ${word}`);
    return value;
  }

  /** The enum value for any word (a stored one); undefined for a word not in the table. */
  valueOf(word: string): E | undefined {
    return this.#byWord.get(word);
  }

  /** The word for a value; undefined for 0 (unspecified) and for a value not in the table. */
  word(value: number): W | undefined {
    return this.#byValue.get(value);
  }

  /** The word for people and scripts to read: `unspecified` for 0, `unknown(N)` for a newer value. */
  label(value: number): string {
    if (value === 0) return 'unspecified';
    return this.#byValue.get(value) ?? `unknown(${value})`;
  }
}

/** Artifact kinds: `source`, `update`, `rules`. */
export const artifactKinds = new EnumWords([
  ['source', ArtifactKind.SOURCE],
  ['update', ArtifactKind.UPDATE],
  ['rules', ArtifactKind.RULES],
] as const);

/** Whether a center holds all of an artifact: `available`, `replicating`. */
export const artifactStates = new EnumWords([
  ['available', ArtifactState.AVAILABLE],
  ['replicating', ArtifactState.REPLICATING],
] as const);

/** Finding severities, lowest first: `info` … `critical`. */
export const severities = new EnumWords([
  ['info', Severity.INFO],
  ['low', Severity.LOW],
  ['medium', Severity.MEDIUM],
  ['high', Severity.HIGH],
  ['critical', Severity.CRITICAL],
] as const);

/** Finding statuses in lifecycle order, then the two closing ones. */
export const findingStatuses = new EnumWords([
  ['new', FindingStatus.NEW],
  ['triaged', FindingStatus.TRIAGED],
  ['in_progress', FindingStatus.IN_PROGRESS],
  ['fixed', FindingStatus.FIXED],
  ['verified', FindingStatus.VERIFIED],
  ['disclosed', FindingStatus.DISCLOSED],
  ['rejected', FindingStatus.REJECTED],
  ['duplicate', FindingStatus.DUPLICATE],
] as const);

/** A finding's standing against its days to fix: `none`, `on_track` … `breached`. */
export const slaStates = new EnumWords([
  ['none', SlaState.NONE],
  ['on_track', SlaState.ON_TRACK],
  ['due_soon', SlaState.DUE_SOON],
  ['overdue', SlaState.OVERDUE],
  ['met', SlaState.MET],
  ['breached', SlaState.BREACHED],
] as const);

/** What an access grant allows: `read`, `review`, `comment`. */
export const accessActions = new EnumWords([
  ['read', Action.READ],
  ['review', Action.REVIEW],
  ['comment', Action.COMMENT],
] as const);

/** Where an access request stands: `pending`, `approved`, `denied`, `revoked`. */
export const requestStates = new EnumWords([
  ['pending', RequestState.PENDING],
  ['approved', RequestState.APPROVED],
  ['denied', RequestState.DENIED],
  ['revoked', RequestState.REVOKED],
] as const);

/** An artifact kind's word (`--kind`, the `kind` column). */
export type KindWord = (typeof artifactKinds.words)[number];
/** A severity's word (`--severity`, the `severity` column). */
export type SeverityWord = (typeof severities.words)[number];
/** A finding status's word (`--status`, the `status` column). */
export type StatusWord = (typeof findingStatuses.words)[number];
/** A service-level state's word (`sla_state` in `--json`). */
export type SlaWord = (typeof slaStates.words)[number];
/** An access action's word (`--action`, a credential's scope). */
export type ActionWord = (typeof accessActions.words)[number];
