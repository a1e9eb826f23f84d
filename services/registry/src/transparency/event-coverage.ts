import { fromBinary } from '@bufbuild/protobuf';
import { type EventBody, EventBodySchema } from '@vitrine/proto/event';
import type { Kysely } from 'kysely';
import type { AccessGrant } from '../access/access-grant.js';
import { artifactFacts, findingFacts } from '../access/artifact-facts.js';
import type { RegistryDatabase } from '../schema.js';

/**
 * gRPC NOT_FOUND. A partner's refused call recorded with it was (or looks like) a call on
 * something its scope hides; the record keeps the precise reason for operators only.
 */
const NOT_FOUND = 5;

/** An event as stored: its body, when this center holds it. */
export interface StoredBody {
  readonly body: Uint8Array | null;
}

/**
 * Which events a caller's credential covers, for listing events and serving receipts. An
 * operator is covered for every event. A partner is covered, for the `read` action, for:
 * an artifact's publication when its scope covers the artifact; a finding's creation,
 * updates and comments when it covers every artifact the finding concerns (as reading the
 * finding needs); and the records of its own calls (AccessUsed naming its principal), but
 * none that would tell it more than the call's answer did: a record naming an artifact or
 * finding outside the scope, or of a call refused NOT_FOUND (the record of a hidden refusal
 * keeps its precise reason, for operators). Anything else — another partner's calls, an event whose body residency keeps from this
 * center (what it is about cannot be told) — is not covered, and is left out as if absent.
 * Facts are looked up once per artifact and finding for the life of the object (one call).
 */
export class EventCoverage {
  readonly #artifacts = new Map<string, boolean>();
  readonly #findings = new Map<string, boolean>();

  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly grant: AccessGrant,
  ) {}

  /** Whether the grant covers every event, whatever it is about. */
  get everything(): boolean {
    return !this.grant.principal.startsWith('partner:');
  }

  async covers(event: StoredBody): Promise<boolean> {
    if (this.everything) return true;
    if (event.body === null) return false;
    let body: EventBody;
    try {
      body = fromBinary(EventBodySchema, event.body);
    } catch {
      return false;
    }
    const change = body.change;
    switch (change.case) {
      case 'artifactPublished':
        return this.#artifact(change.value.artifactId);
      case 'findingCreated':
      case 'findingUpdated':
      case 'commentAdded':
        return this.#finding(change.value.findingId);
      case 'accessUsed': {
        const use = change.value;
        if (use.principal !== this.grant.principal || use.refusalCode === NOT_FOUND) return false;
        if (use.artifactId !== '' && !(await this.#artifact(use.artifactId))) return false;
        return use.findingId === '' || this.#finding(use.findingId);
      }
      default:
        return false;
    }
  }

  async #artifact(id: string): Promise<boolean> {
    let covered = this.#artifacts.get(id);
    if (covered === undefined) {
      const [facts] = await artifactFacts(this.db, [id]);
      covered = facts !== undefined && this.grant.covers('read', facts);
      this.#artifacts.set(id, covered);
    }
    return covered;
  }

  async #finding(id: string): Promise<boolean> {
    let covered = this.#findings.get(id);
    if (covered === undefined) {
      const facts = await findingFacts(this.db, id);
      covered =
        facts !== undefined &&
        facts.artifacts.length > 0 &&
        facts.artifacts.every((a) => this.grant.covers('read', a));
      this.#findings.set(id, covered);
    }
    return covered;
  }
}
