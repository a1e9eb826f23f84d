import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { VitrineError } from '@vitrine/errors';
import { severities } from '@vitrine/proto/enum-words';
import {
  type FieldVersion,
  FieldVersionSchema,
  FindingCreatedSchema,
  FindingLocationSchema,
  FindingLocationsSchema,
  type FindingUpdated,
  FindingUpdatedSchema,
} from '@vitrine/proto/finding';
import type { Kysely } from 'kysely';
import type { GrantedArtifact } from './access/access-grant.js';
import { artifactFacts } from './access/artifact-facts.js';
import type { EventLog, LogEntry } from './event-log.js';
import { locationsColumn } from './finding-locations.js';
import { notFound } from './not-found.js';
import { type ArtifactRow, findArtifact } from './queries/artifacts.js';
import { importedFindingsOn, lineageOf, registersOf } from './queries/finding-import.js';
import { nextFindingNumber } from './queries/findings.js';
import { type ImportRecord, type SarifSpool, spoolSarif } from './sarif-spool.js';
import type { RegistryDatabase } from './schema.js';
import { LIMITS } from './validate.js';

type Db = Kysely<RegistryDatabase>;

/**
 * Events appended per `appendAll` call of an import: one insert per table per batch, as
 * ingest does (1,024 events per transaction there). Every batch of one import goes into the
 * same transaction, so an import is all or nothing whatever its size.
 */
export const IMPORT_EVENTS_PER_APPEND = 1024;

/** Where an import keeps its spool and how large a file it takes. */
export interface FindingImportSettings {
  readonly spoolDir: string;
  readonly maxBytes: number;
}

/** What an import did (ImportFindingsResponse). */
export interface ImportOutcome {
  results: number;
  created: number;
  updated: number;
  unchanged: number;
  candidateFixes: number;
  skipped: number;
  events: number;
  bytes: number;
}

/** An imported finding of the lineage as the import goes: what it has recorded so far. */
interface Tracked {
  readonly id: string;
  readonly tool: string;
  readonly residency: readonly string[];
  readonly artifacts: Set<string>;
  locations: string;
  candidate: string;
  /** Whether a result of this import reported it (a later one with its key changes nothing). */
  reported: boolean;
}

/**
 * SARIF import into findings. The file is validated whole while it streams to a spool
 * (sarif-spool.ts), then one transaction, holding the log head, turns each result into a
 * finding or an update of the finding with its key on the artifact's product lineage, and
 * marks the lineage's findings the scan no longer reports. Keys, the fallback key and
 * baselineState are in docs/finding-formats.md.
 */
export class FindingImports {
  constructor(
    private readonly db: Db,
    private readonly log: EventLog,
    private readonly centerId: string,
    private readonly settings: FindingImportSettings,
  ) {}

  /**
   * Imports a SARIF file's results as findings on artifact `artifactId`. `mayReview` is the
   * caller's scope: only findings on lineage artifacts it covers (every artifact of the
   * finding) are matched, updated or marked, so an import never touches, nor reveals, a
   * finding the caller could not review by hand.
   */
  async import(
    actor: string,
    artifactId: string,
    bytes: AsyncIterable<Uint8Array>,
    signal: AbortSignal,
    mayReview: (artifact: GrantedArtifact) => boolean = () => true,
  ): Promise<ImportOutcome> {
    const target = await findArtifact(this.db, artifactId);
    if (!target) throw notFound('artifact', [artifactId]);
    const spool = await spoolSarif(bytes, this.settings.spoolDir, this.settings.maxBytes);
    try {
      if (signal.aborted) {
        throw new VitrineError('unavailable', 'import was cancelled before it ended');
      }
      return await this.log.transact(this.db, (tx) =>
        this.#record(tx, actor, target, spool, mayReview),
      );
    } finally {
      await spool.remove();
    }
  }

  async #record(
    tx: Db,
    actor: string,
    target: ArtifactRow,
    spool: SarifSpool,
    mayReview: (artifact: GrantedArtifact) => boolean,
  ) {
    await this.log.lock(tx);
    const lineage = await lineageOf(tx, target.id);
    const earlier = supersededBy(target.id, lineage);
    const facts = await artifactFacts(
      tx,
      lineage.map((a) => a.id),
    );
    const reviewable = new Set(facts.filter(mayReview).map((a) => a.id));
    const known = new Map<string, Tracked>();
    for (const row of await importedFindingsOn(tx, [...reviewable])) {
      if (!row.artifact_ids.every((id) => reviewable.has(id))) continue;
      known.set(row.fingerprint, {
        ...{ id: row.id, tool: row.tool, residency: row.residency, locations: row.locations },
        ...{ artifacts: new Set(row.artifact_ids), candidate: row.candidate_fix_artifact_id },
        reported: false,
      });
    }
    const outcome: ImportOutcome = {
      ...{ results: spool.results, created: 0, updated: 0, unchanged: 0 },
      ...{ candidateFixes: 0, skipped: 0, events: 0, bytes: spool.bytes },
    };
    const batch = new EventBatch(tx, this.log, actor);
    let number = await nextFindingNumber(tx, this.centerId);
    const tools = new Set<string>();
    for await (const record of spool.records()) {
      tools.add(record.tool);
      const found = known.get(record.fingerprint);
      if (record.baselineState === 'absent' || (found === undefined && record.suppressed)) {
        outcome.skipped++;
      } else if (found === undefined) {
        const id = `${this.centerId}-${number++}`;
        await batch.add({ change: createdChange(id, target, record), residency: target.residency });
        known.set(record.fingerprint, tracked(id, target, record));
        outcome.created++;
      } else if (found.reported) {
        outcome.unchanged++;
      } else {
        found.reported = true;
        const change = reportedAgain(found, target.id, locationsColumn(record.locations));
        if (change) await batch.update(found, change);
        outcome[change ? 'updated' : 'unchanged']++;
      }
    }
    for (const finding of known.values()) {
      if (!isCandidateFix(finding, target.id, earlier, tools)) continue;
      finding.candidate = target.id;
      await batch.update(finding, { candidateFixArtifactId: target.id });
      outcome.candidateFixes++;
    }
    outcome.events = await batch.flush();
    return outcome;
  }
}

/** The artifacts `id` supersedes, directly or through others. */
function supersededBy(id: string, lineage: readonly { id: string; supersedes: string }[]) {
  const byId = new Map(lineage.map((a) => [a.id, a.supersedes]));
  const earlier = new Set<string>();
  for (let at = byId.get(id); at && !earlier.has(at) && at !== id; at = byId.get(at)) {
    earlier.add(at);
  }
  return earlier;
}

/**
 * A finding the scan of `target` no longer reports is a candidate fix when the same tool
 * ran, it is on an artifact `target` supersedes and not on `target` itself, and no earlier
 * scan made it one already.
 */
function isCandidateFix(f: Tracked, target: string, earlier: Set<string>, tools: Set<string>) {
  if (f.reported || f.candidate !== '' || f.artifacts.has(target) || !tools.has(f.tool)) {
    return false;
  }
  return [...f.artifacts].some((a) => earlier.has(a));
}

/** The fields an import sets on a finding it updates. */
type ImportChange = Pick<
  MessageInitShape<typeof FindingUpdatedSchema>,
  'addedArtifactIds' | 'candidateFixArtifactId' | 'locations'
>;

/** What a result reporting a known finding changes on it; undefined for nothing. */
function reportedAgain(f: Tracked, target: string, locations: string) {
  const change: ImportChange = {};
  if (!f.artifacts.has(target)) {
    change.addedArtifactIds = [target];
    f.artifacts.add(target);
  }
  if (f.candidate !== '') {
    change.candidateFixArtifactId = '';
    f.candidate = '';
  }
  if (f.locations !== locations) {
    const items = (JSON.parse(locations) as object[]).map((l) => create(FindingLocationSchema, l));
    change.locations = create(FindingLocationsSchema, { items });
    f.locations = locations;
  }
  return Object.keys(change).length > 0 ? change : undefined;
}

function createdChange(id: string, target: ArtifactRow, record: ImportRecord) {
  const value = create(FindingCreatedSchema, {
    findingId: id,
    artifactIds: [target.id],
    title: titleOf(record),
    description: record.message.slice(0, LIMITS.description),
    severity: severities.value(record.severity),
    ruleId: record.ruleId,
    tool: record.tool,
    locations: record.locations.map((l) => create(FindingLocationSchema, l)),
    fingerprint: record.fingerprint,
  });
  return { case: 'findingCreated' as const, value };
}

/** The first line of the message, or the rule id for a blank one, within the title limit. */
function titleOf(record: ImportRecord): string {
  const line = record.message.split('\n', 1)[0]?.trim() ?? '';
  return (line || record.ruleId || `${record.tool} result`).slice(0, LIMITS.title);
}

function tracked(id: string, target: ArtifactRow, record: ImportRecord): Tracked {
  return {
    ...{ id, tool: record.tool, residency: target.residency, artifacts: new Set([target.id]) },
    ...{ locations: locationsColumn(record.locations), candidate: '', reported: true },
  };
}

/** The fields an import writes that are registers (added artifacts are an add-only set). */
const IMPORT_REGISTERS = ['candidate_fix_artifact_id', 'locations'];

/**
 * Events of one import, appended `IMPORT_EVENTS_PER_APPEND` at a time in the import's
 * transaction. An update's `seen` holds the registers it writes as they stand before it.
 */
class EventBatch {
  #entries: LogEntry[] = [];
  #updates: { entry: { change: { value: FindingUpdated } }; id: string }[] = [];
  #appended = 0;

  constructor(
    private readonly tx: Db,
    private readonly log: EventLog,
    private readonly actor: string,
  ) {}

  async add(entry: Omit<LogEntry, 'actor'>): Promise<void> {
    this.#entries.push({ actor: this.actor, ...entry });
    if (this.#entries.length >= IMPORT_EVENTS_PER_APPEND) await this.#append();
  }

  async update(f: Tracked, fields: ImportChange): Promise<void> {
    const value = create(FindingUpdatedSchema, { ...fields, findingId: f.id });
    const entry = { change: { case: 'findingUpdated' as const, value }, residency: f.residency };
    this.#updates.push({ entry, id: f.id });
    await this.add(entry);
  }

  /** Appends what is pending; the number of events appended in all. */
  async flush(): Promise<number> {
    if (this.#entries.length > 0) await this.#append();
    return this.#appended;
  }

  async #append(): Promise<void> {
    const ids = this.#updates.map((u) => u.id);
    const registers = ids.length > 0 ? await registersOf(this.tx, ids, IMPORT_REGISTERS) : [];
    const seen = new Map<string, FieldVersion[]>();
    for (const r of registers) {
      const version = create(FieldVersionSchema, r);
      seen.set(r.finding_id, [...(seen.get(r.finding_id) ?? []), version]);
    }
    for (const { entry, id } of this.#updates) entry.change.value.seen = seen.get(id) ?? [];
    await this.log.appendAll(this.tx, this.#entries);
    this.#appended += this.#entries.length;
    this.#entries = [];
    this.#updates = [];
  }
}
