import { Action, RequestState } from '@vitrine/proto/access';
import { ArtifactKind, ArtifactState } from '@vitrine/proto/artifact';
import { FindingStatus, Severity } from '@vitrine/proto/finding';

/**
 * The one place proto enums meet the words people type and scripts read: `source`,
 * `high`, `in_progress`. Flags accept exactly these words and `--json` output prints
 * them, so neither ever shows `SEVERITY_HIGH` or a bare number.
 */
class EnumWords<W extends string, E extends number> {
  readonly words: readonly W[];
  readonly #byWord: ReadonlyMap<string, E>;
  readonly #byValue: ReadonlyMap<number, W>;

  constructor(pairs: readonly (readonly [W, E])[]) {
    this.words = pairs.map(([word]) => word);
    this.#byWord = new Map(pairs);
    this.#byValue = new Map(pairs.map(([word, value]) => [value, word]));
  }

  /** The enum value for a word the flag parser has already checked against `words`. */
  value(word: W): E {
    const value = this.#byWord.get(word);
    if (value === undefined) throw new Error(`unknown word ${word}`);
    return value;
  }

  /** The word for a value; `unspecified` for 0, `unknown(N)` for a value newer than this CLI. */
  word(value: number): string {
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

/** A word accepted by `--kind`. */
export type KindWord = (typeof artifactKinds.words)[number];
/** A word accepted by `--severity`. */
export type SeverityWord = (typeof severities.words)[number];
/** A word accepted by `--status`. */
export type StatusWord = (typeof findingStatuses.words)[number];
/** A word accepted by `--action`. */
export type ActionWord = (typeof accessActions.words)[number];
