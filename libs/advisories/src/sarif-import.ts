import { createHash } from 'node:crypto';
import { TextDecoder } from 'node:util';
import { InvalidArgumentError } from '@vitrine/errors';
import type { ValidateFunction } from 'ajv';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { cvssBand, type Severity, severityOfBand } from './cvss.js';
import { type CutConsumer, CutError, type CutToken, JsonCutter } from './json-cutter.js';
import { type SchemaViolation, schemaPointers, violationOf } from './json-schema.js';
import sarifSchema from './schemas/sarif-schema-2.1.0.json' with { type: 'json' };

/** SARIF result levels (§3.27.10). */
export type SarifLevel = 'none' | 'note' | 'warning' | 'error';
/** SARIF baseline states (§3.27.24). */
export type SarifBaselineState = 'new' | 'unchanged' | 'updated' | 'absent';

/** The tool of a run, as its driver names itself. */
export interface SarifTool {
  readonly name: string;
  readonly version?: string;
  readonly semanticVersion?: string;
  readonly informationUri?: string;
}

/** One run of a log: its position and tool. Results of the same run share this object. */
export interface SarifRun {
  /** Position in `runs`. */
  readonly index: number;
  readonly tool: SarifTool;
  /** `automationDetails.id`, when the producer names the scan configuration. */
  readonly automationId?: string;
}

/** The rule a result reports on, as the tool describes it. */
export interface SarifRule {
  readonly id: string;
  readonly name?: string;
  readonly shortDescription?: string;
  readonly fullDescription?: string;
  /** `help.markdown`, else `help.text`. */
  readonly help?: string;
  readonly helpUri?: string;
}

/** Where a result is, in the scanned artifact. */
export interface SarifLocation {
  /** The artifact-relative path (`src/main.c`), or the path of a `file:` URI. */
  readonly path: string;
  readonly startLine?: number;
  /** Defaults to `startLine` when the region names a start line only. */
  readonly endLine?: number;
}

/** Which part of a result identifies it across scans; see `fingerprintKey`. */
export type FingerprintBasis = 'partialFingerprints' | 'fingerprints' | 'location';

/** A SARIF result, normalised to what a finding needs. */
export interface SarifFinding {
  readonly run: SarifRun;
  /** Position in its run's `results`. */
  readonly index: number;
  /** JSONPath of the result in the log, e.g. `$.runs[0].results[41]`. */
  readonly jsonPath: string;
  /** The rule id, or `""` when the result names none. */
  readonly ruleId: string;
  readonly rule?: SarifRule;
  /** The message, with `{0}`-style arguments substituted. */
  readonly message: string;
  readonly locations: readonly SarifLocation[];
  readonly level: SarifLevel;
  readonly severity: Severity;
  /** Where `severity` came from: the rule's `security-severity` score, or the level. */
  readonly severitySource: 'security-severity' | 'level';
  /** Lower-case hex SHA-256 naming the result across scans of the same code base. */
  readonly fingerprint: string;
  readonly fingerprintBasis: FingerprintBasis;
  readonly baselineState?: SarifBaselineState;
  /** True when a suppression (in source or external) that is not rejected applies. */
  readonly suppressed: boolean;
}

/** What `readSarif` read, when the whole log was valid. */
export interface SarifSummary {
  readonly runs: number;
  readonly results: number;
  readonly bytes: number;
}

/** Bounds on what one log may hold; each has a default. */
export interface SarifLimits {
  /** Bytes of the whole file. Default 512 MiB. */
  readonly maxBytes?: number;
  /** Nesting of objects and arrays. Default 64. */
  readonly maxDepth?: number;
  /** Characters of one string, key or number. Default 4 Mi. */
  readonly maxStringLength?: number;
  /** Characters of one result's JSON text. Default 8 Mi. */
  readonly maxResultSize?: number;
  /** Characters of everything outside the results (log and run shells, rules). Default 64 Mi. */
  readonly maxShellSize?: number;
  /** Results of the whole log. Default 1,000,000. */
  readonly maxResults?: number;
  /** Results held back while a run's `tool` has not been read yet. Default 10,000. */
  readonly maxPendingResults?: number;
}

const DEFAULTS: Required<SarifLimits> = {
  maxBytes: 512 * 1024 * 1024,
  maxDepth: 64,
  maxStringLength: 4 * 1024 * 1024,
  maxResultSize: 8 * 1024 * 1024,
  maxShellSize: 64 * 1024 * 1024,
  maxResults: 1_000_000,
  maxPendingResults: 10_000,
};

/**
 * A SARIF file vitrine refuses: not JSON, over a limit, or not SARIF 2.1.0 by the official
 * schema. `path` is the JSONPath of the offending value and `rule` the schema rule it
 * broke (or the limit or JSON rule).
 */
export class SarifError extends InvalidArgumentError {
  constructor(
    readonly path: string,
    readonly rule: string,
    problem: string,
  ) {
    super(`invalid SARIF at ${path}: ${problem} (${rule})`, [{ field: path, message: problem }]);
  }
}

// ---------------------------------------------------------------------------------------
// Schema: the official SARIF 2.1.0 schema, compiled once for the parts a stream is cut into.

// Imported as a module (not read from disk) so the schema goes into every bundle of the code.
const SCHEMA = sarifSchema as unknown as { id: string; definitions: Record<string, unknown> };

type Part = 'log' | 'run' | 'result';

/** Fast validators for the common case, compiled on first use. */
let fast: Record<Part, ValidateFunction> | undefined;
/** Verbose ones, compiled on the first failure, run again to name the broken schema rule. */
let verbose:
  | { validators: Record<Part, ValidateFunction>; pointers: WeakMap<object, string> }
  | undefined;

function compile(verbose: boolean): Record<Part, ValidateFunction> {
  // Both packages are CommonJS with the class or function as `default`.
  const ajv = new AjvDraft04.default({ strict: false, verbose, allErrors: false });
  addFormats.default(ajv);
  ajv.addSchema(SCHEMA);
  return {
    log: ajv.getSchema(SCHEMA.id) as ValidateFunction,
    run: ajv.compile({ $ref: `${SCHEMA.id}#/definitions/run` }),
    result: ajv.compile({ $ref: `${SCHEMA.id}#/definitions/result` }),
  };
}

/**
 * Compiles the SARIF schema now rather than on the first import (it takes a moment): a
 * service calls it at start-up.
 */
export function prepareSarifReader(): void {
  fast ??= compile(false);
}

function check(part: Part, value: unknown, path: string): void {
  fast ??= compile(false);
  if (fast[part](value)) return;
  verbose ??= { validators: compile(true), pointers: schemaPointers(SCHEMA) };
  const validate = verbose.validators[part];
  validate(value);
  const v: SchemaViolation = violationOf(validate.errors, path, verbose.pointers);
  throw new SarifError(v.path, v.rule, v.message);
}

// ---------------------------------------------------------------------------------------
// The reader: a state machine over the outer levels of one log; results and everything
// else below a run are cut whole and parsed natively.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = Record<string, Json>;

interface RunState {
  index: number;
  shell: Obj;
  info?: SarifRun;
  rules?: RuleIndex;
  artifacts?: Json[];
  results: number;
  pending: Array<{ result: Obj; index: number }>;
  hasResults: boolean;
  resultsOpen: boolean;
}

interface RuleIndex {
  byIndex: Array<Obj | undefined>;
  byId: Map<string, Obj>;
  extensions: Array<{ name: string; byIndex: Array<Obj | undefined>; byId: Map<string, Obj> }>;
}

type Mode =
  | { at: 'start' }
  | { at: 'root' }
  | { at: 'runs'; open: boolean }
  | { at: 'run'; run: RunState }
  | { at: 'results'; run: RunState }
  | { at: 'end' };

/**
 * Reads a SARIF 2.1.0 log as a stream and yields its results one at a time, normalised.
 * Memory stays bounded by the limits whatever the number of results: each result is cut
 * from the text alone, parsed, checked against the `result` definition of the official
 * schema and handed on; what surrounds the results (the log and each run without its
 * results) is checked against the `sarifLog` and `run` definitions when it closes.
 *
 * Refusals are `SarifError` (invalid_argument) naming the JSONPath and the rule. Since a
 * stream is only known to be valid at its end, an error can come after results were
 * yielded: a caller stores them only once the iteration has finished without one.
 */
export async function* readSarif(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  limits: SarifLimits = {},
): AsyncGenerator<SarifFinding, SarifSummary, undefined> {
  const lim = { ...DEFAULTS, ...limits };
  prepareSarifReader();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let bytes = 0;
  let mode: Mode = { at: 'start' };
  const root: Obj = {};
  let shellSize = 0;
  let pendingKey: string | undefined;
  let runCount = 0;
  let resultCount = 0;
  let out: SarifFinding[] = [];

  const emit = (run: RunState, result: Obj, index: number) => {
    out.push(
      normaliseResult(run.info as SarifRun, run.rules as RuleIndex, run.artifacts, result, index),
    );
  };
  /**
   * Hands a valid result on, or holds it back (bounded) while what it refers to is not read
   * yet: the run's tool, or the run's artifacts when it names its file by index only.
   */
  const offer = (run: RunState, result: Obj, index: number, path: string) => {
    if (run.info !== undefined && (run.artifacts !== undefined || !byArtifactIndex(result))) {
      emit(run, result, index);
      return;
    }
    if (run.pending.length >= lim.maxPendingResults) {
      throw new SarifError(
        path,
        'limit',
        `more than ${lim.maxPendingResults} results before the run's ${run.info === undefined ? 'tool' : 'artifacts'}; write "tool" and "artifacts" before "results"`,
      );
    }
    run.pending.push({ result, index });
  };

  const checkRunShell = (run: RunState) => {
    const shell: Obj = { ...run.shell };
    if (run.hasResults) shell.results = [];
    check('run', shell, `$.runs[${run.index}]`);
  };

  const prepareRun = (run: RunState) => {
    const tool = run.shell.tool as Obj;
    const driver = tool.driver as Obj;
    const automation = run.shell.automationDetails as Obj | undefined;
    run.info = {
      index: run.index,
      tool: {
        name: driver.name as string,
        ...optional('version', driver.version),
        ...optional('semanticVersion', driver.semanticVersion),
        ...optional('informationUri', driver.informationUri),
      },
      ...optional('automationId', automation?.id),
    };
    const extensions = Array.isArray(tool.extensions) ? (tool.extensions as Obj[]) : [];
    run.rules = {
      ...indexRules(driver.rules),
      extensions: extensions.map((e) => ({ name: e.name as string, ...indexRules(e.rules) })),
    };
  };

  const flushPending = (run: RunState) => {
    const pending = run.pending;
    run.pending = [];
    for (const { result, index } of pending) {
      offer(run, result, index, `$.runs[${run.index}].results[${index}]`);
    }
  };

  const shellValue = (path: string, length: number) => {
    shellSize += length;
    if (shellSize > lim.maxShellSize) {
      throw new SarifError(
        path,
        'limit',
        `the log outside its results is larger than ${lim.maxShellSize} characters`,
      );
    }
  };

  const consumer: CutConsumer = {
    wholeLimit() {
      switch (mode.at) {
        case 'root':
        case 'run':
          return pendingKey !== undefined ? Math.max(1, lim.maxShellSize - shellSize) : 0;
        case 'results':
          return mode.run.resultsOpen ? lim.maxResultSize : 0;
        default:
          return 0;
      }
    },
    token(token: CutToken) {
      switch (mode.at) {
        case 'start':
          if (token.kind !== 'startObject') {
            throw new SarifError('$', '#/type', 'a SARIF log must be a JSON object');
          }
          mode = { at: 'root' };
          return;
        case 'root':
          if (token.kind === 'key') {
            if (token.key === 'runs') {
              root.runs = [];
              mode = { at: 'runs', open: false };
            } else {
              pendingKey = token.key;
            }
            return;
          }
          if (token.kind === 'value') {
            const key = pendingKey as string;
            pendingKey = undefined;
            shellValue(`$.${key}`, token.length);
            root[key] = token.value as Json;
            if (key === 'version' && token.value !== '2.1.0') {
              throw new SarifError(
                '$.version',
                '#/properties/version/enum',
                `version ${JSON.stringify(token.value)} is not supported; vitrine reads SARIF "2.1.0"`,
              );
            }
            return;
          }
          if (token.kind === 'endObject') {
            if (!('runs' in root)) {
              throw new SarifError('$', '#/required', "must have required property 'runs'");
            }
            const shell: Obj = { ...root };
            if (Array.isArray(shell.runs)) shell.runs = [];
            check('log', shell, '$');
            mode = { at: 'end' };
          }
          return;
        case 'runs':
          if (!mode.open) {
            if (token.kind === 'scalar' && token.value === null) {
              root.runs = null;
              mode = { at: 'root' };
              return;
            }
            if (token.kind === 'startArray') {
              mode = { at: 'runs', open: true };
              return;
            }
            throw new SarifError('$.runs', '#/properties/runs/type', 'must be array or null');
          }
          if (token.kind === 'endArray') {
            mode = { at: 'root' };
            return;
          }
          if (token.kind === 'startObject') {
            mode = {
              at: 'run',
              run: {
                index: runCount++,
                shell: {},
                results: 0,
                pending: [],
                hasResults: false,
                resultsOpen: false,
              },
            };
            return;
          }
          throw new SarifError(`$.runs[${runCount}]`, '#/definitions/run/type', 'must be object');
        case 'run': {
          const run = mode.run;
          if (token.kind === 'key') {
            if (token.key === 'results') {
              run.hasResults = true;
              mode = { at: 'results', run };
            } else {
              pendingKey = token.key;
            }
            return;
          }
          if (token.kind === 'value') {
            const key = pendingKey as string;
            pendingKey = undefined;
            shellValue(`$.runs[${run.index}].${key}`, token.length);
            run.shell[key] = token.value as Json;
            if (key === 'tool') {
              // The tool must be valid before its rules are used for results.
              checkRunShell(run);
              prepareRun(run);
              flushPending(run);
            } else if (key === 'artifacts' && Array.isArray(token.value)) {
              run.artifacts = token.value as Json[];
              flushPending(run);
            }
            return;
          }
          if (token.kind === 'endObject') {
            checkRunShell(run);
            if (run.info === undefined) prepareRun(run);
            run.artifacts ??= [];
            flushPending(run);
            mode = { at: 'runs', open: true };
          }
          return;
        }
        case 'results': {
          const run = mode.run;
          if (!run.resultsOpen) {
            if (token.kind === 'startArray') {
              run.resultsOpen = true;
              return;
            }
            throw new SarifError(
              `$.runs[${run.index}].results`,
              '#/definitions/run/properties/results/type',
              'must be array',
            );
          }
          if (token.kind === 'endArray') {
            run.resultsOpen = false;
            mode = { at: 'run', run };
            return;
          }
          const index = run.results++;
          const path = `$.runs[${run.index}].results[${index}]`;
          if (++resultCount > lim.maxResults) {
            throw new SarifError(path, 'limit', `more than ${lim.maxResults} results`);
          }
          const value = token.kind === 'value' ? token.value : undefined;
          check('result', value, path);
          offer(run, value as Obj, index, path);
          return;
        }
        case 'end':
          return;
      }
    },
  };

  const cutter = new JsonCutter(consumer, {
    maxDepth: lim.maxDepth,
    maxStringLength: lim.maxStringLength,
  });
  const where = (err: CutError): SarifError => {
    // The JSONPath of a value being read: the run or result it is in, else the log.
    const at =
      mode.at === 'results' && mode.run.resultsOpen
        ? `$.runs[${mode.run.index}].results[${mode.run.results}]`
        : mode.at === 'run' || mode.at === 'results'
          ? `$.runs[${mode.run.index}]${pendingKey !== undefined ? `.${pendingKey}` : ''}`
          : pendingKey !== undefined
            ? `$.${pendingKey}`
            : '$';
    switch (err.reason) {
      case 'depth':
        return new SarifError(at, 'limit', `JSON nested deeper than allowed (${err.message})`);
      case 'string':
        return new SarifError(at, 'limit', `${err.message} characters`);
      case 'value':
        return new SarifError(
          at,
          'limit',
          at.includes('.results[')
            ? `the result is larger than ${lim.maxResultSize} characters`
            : `the log outside its results is larger than ${lim.maxShellSize} characters`,
        );
      default:
        return new SarifError(at, 'json', `${err.message} at character ${err.offset}`);
    }
  };
  const guarded = (step: () => void) => {
    try {
      step();
    } catch (err) {
      if (err instanceof CutError) throw where(err);
      throw err;
    }
  };

  for await (const chunk of source) {
    const text = typeof chunk === 'string' ? chunk : decode(decoder, chunk, bytes);
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    if (bytes > lim.maxBytes) {
      throw new SarifError('$', 'limit', `the file is larger than ${lim.maxBytes} bytes`);
    }
    guarded(() => cutter.push(text));
    if (out.length > 0) {
      const ready = out;
      out = [];
      yield* ready;
    }
  }
  if (bytes === 0) throw new SarifError('$', 'json', 'the file is empty');
  guarded(() => {
    cutter.push(decode(decoder, undefined, bytes));
    cutter.end();
  });
  yield* out;
  return { runs: runCount, results: resultCount, bytes };
}

function byArtifactIndex(result: Obj): boolean {
  if (!Array.isArray(result.locations)) return false;
  return result.locations.some((location) => {
    const physical = (location as Obj).physicalLocation as Obj | undefined;
    const artifact = physical?.artifactLocation as Obj | undefined;
    return (
      artifact !== undefined &&
      typeof artifact.uri !== 'string' &&
      typeof artifact.index === 'number'
    );
  });
}

function decode(decoder: TextDecoder, chunk: Uint8Array | undefined, offset: number): string {
  try {
    return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
  } catch {
    throw new SarifError('$', 'json', `not UTF-8 text (near byte ${offset})`);
  }
}

function indexRules(rules: Json | undefined): {
  byIndex: Array<Obj | undefined>;
  byId: Map<string, Obj>;
} {
  const byIndex = Array.isArray(rules) ? (rules as Obj[]) : [];
  const byId = new Map<string, Obj>();
  for (const rule of byIndex) {
    if (typeof rule.id === 'string' && !byId.has(rule.id)) byId.set(rule.id, rule);
  }
  return { byIndex, byId };
}

function optional<K extends string>(key: K, value: Json | undefined): { [P in K]?: string } {
  return typeof value === 'string' ? ({ [key]: value } as { [P in K]: string }) : {};
}

function text(message: Json | undefined): string | undefined {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) return undefined;
  const m = message as Obj;
  return typeof m.text === 'string'
    ? m.text
    : typeof m.markdown === 'string'
      ? m.markdown
      : undefined;
}

// ---------------------------------------------------------------------------------------
// Normalisation of one result.

const LEVEL_SEVERITY: Record<SarifLevel, Severity> = {
  error: 'high',
  warning: 'medium',
  note: 'low',
  none: 'info',
};

function normaliseResult(
  run: SarifRun,
  rules: RuleIndex,
  artifacts: Json[] | undefined,
  result: Obj,
  index: number,
): SarifFinding {
  const path = `$.runs[${run.index}].results[${index}]`;
  const ref = (result.rule ?? {}) as Obj;
  const component = (ref.toolComponent ?? undefined) as Obj | undefined;
  let table: { byIndex: Array<Obj | undefined>; byId: Map<string, Obj> } = rules;
  if (component !== undefined) {
    const ext =
      typeof component.index === 'number'
        ? rules.extensions[component.index]
        : rules.extensions.find((e) => e.name === component.name);
    if (ext === undefined && component.name !== run.tool.name) {
      throw new SarifError(
        `${path}.rule.toolComponent`,
        'sarif §3.52.7',
        'names a tool component the run does not have',
      );
    }
    if (ext !== undefined) table = ext;
  }
  const ruleIndex =
    typeof result.ruleIndex === 'number'
      ? result.ruleIndex
      : typeof ref.index === 'number'
        ? ref.index
        : -1;
  const claimedId =
    typeof result.ruleId === 'string'
      ? result.ruleId
      : typeof ref.id === 'string'
        ? ref.id
        : undefined;
  let rule: Obj | undefined;
  if (ruleIndex >= 0) {
    rule = table.byIndex[ruleIndex];
    if (rule === undefined) {
      throw new SarifError(
        `${path}.ruleIndex`,
        'sarif §3.27.6',
        `rule index ${ruleIndex} is not in the run's rules`,
      );
    }
  } else if (claimedId !== undefined) {
    // A hierarchical id (`CA2000/1`) may be described by its parent (`CA2000`).
    rule = table.byId.get(claimedId) ?? table.byId.get(claimedId.split('/')[0] as string);
  }
  const ruleId = claimedId ?? (typeof rule?.id === 'string' ? rule.id : '');

  const message = messageText(result.message as Obj, rule, `${path}.message`);
  const locations = locationsOf(result.locations, artifacts, path);

  const kind = typeof result.kind === 'string' ? result.kind : 'fail';
  const configured = ((rule?.defaultConfiguration ?? {}) as Obj).level;
  const level = (
    typeof result.level === 'string'
      ? result.level
      : kind !== 'fail'
        ? 'none'
        : typeof configured === 'string'
          ? configured
          : 'warning'
  ) as SarifLevel;
  const declared = ((rule?.properties ?? {}) as Obj)['security-severity'];
  const securitySeverity =
    typeof declared === 'number' || (typeof declared === 'string' && declared.trim() !== '')
      ? Number(declared)
      : Number.NaN;
  const scored =
    Number.isFinite(securitySeverity) && securitySeverity >= 0 && securitySeverity <= 10;

  const { fingerprint, basis } = fingerprintKey(run.tool.name, ruleId, result, locations, message);
  const suppressions = Array.isArray(result.suppressions) ? (result.suppressions as Obj[]) : [];
  return {
    run,
    index,
    jsonPath: path,
    ruleId,
    ...(rule !== undefined ? { rule: ruleOf(rule, ruleId) } : {}),
    message,
    locations,
    level,
    severity: scored ? severityOfBand(cvssBand(securitySeverity)) : LEVEL_SEVERITY[level],
    severitySource: scored ? 'security-severity' : 'level',
    fingerprint,
    fingerprintBasis: basis,
    ...(typeof result.baselineState === 'string'
      ? { baselineState: result.baselineState as SarifBaselineState }
      : {}),
    suppressed: suppressions.some((s) => s.status !== 'rejected' && s.status !== 'underReview'),
  };
}

function ruleOf(rule: Obj, ruleId: string): SarifRule {
  const helpBag = (rule.help ?? {}) as Obj;
  const help = typeof helpBag.markdown === 'string' ? helpBag.markdown : text(rule.help);
  const shortDescription = text(rule.shortDescription);
  const fullDescription = text(rule.fullDescription);
  return {
    id: typeof rule.id === 'string' ? rule.id : ruleId,
    ...optional('name', rule.name),
    ...(shortDescription !== undefined ? { shortDescription } : {}),
    ...(fullDescription !== undefined ? { fullDescription } : {}),
    ...(help !== undefined ? { help } : {}),
    ...optional('helpUri', rule.helpUri),
  };
}

function messageText(message: Obj, rule: Obj | undefined, path: string): string {
  let template = typeof message.text === 'string' ? message.text : undefined;
  if (template === undefined && typeof message.markdown === 'string') template = message.markdown;
  if (template === undefined && typeof message.id === 'string') {
    const strings = (rule?.messageStrings ?? {}) as Obj;
    template = text(strings[message.id]);
    if (template === undefined) {
      throw new SarifError(
        `${path}.id`,
        'sarif §3.11.10',
        `message id "${message.id}" is not among its rule's messageStrings`,
      );
    }
  }
  if (template === undefined || template.trim() === '') {
    throw new SarifError(path, 'sarif §3.11.7', 'the result has no message text');
  }
  const args = Array.isArray(message.arguments) ? (message.arguments as string[]) : [];
  return template.replace(/\{(\d+)\}/g, (whole, n: string) => args[Number(n)] ?? whole);
}

function locationsOf(value: Json | undefined, artifacts: Json[] | undefined, path: string) {
  const locations: SarifLocation[] = [];
  if (!Array.isArray(value)) return locations;
  value.forEach((location, i) => {
    const physical = (location as Obj).physicalLocation as Obj | undefined;
    const artifact = physical?.artifactLocation as Obj | undefined;
    if (artifact === undefined) return;
    let uri = typeof artifact.uri === 'string' ? artifact.uri : undefined;
    if (uri === undefined && typeof artifact.index === 'number') {
      const listed = artifacts?.[artifact.index] as Obj | undefined;
      uri = ((listed?.location ?? {}) as Obj).uri as string | undefined;
      if (uri === undefined) {
        throw new SarifError(
          `${path}.locations[${i}].physicalLocation.artifactLocation.index`,
          'sarif §3.4.5',
          `artifact index ${artifact.index} is not in the run's artifacts`,
        );
      }
    }
    if (uri === undefined) return;
    const region = (physical?.region ?? {}) as Obj;
    const startLine = typeof region.startLine === 'number' ? region.startLine : undefined;
    const endLine = typeof region.endLine === 'number' ? region.endLine : startLine;
    locations.push({
      path: pathOf(uri),
      ...(startLine !== undefined ? { startLine } : {}),
      ...(endLine !== undefined ? { endLine } : {}),
    });
  });
  return locations;
}

function pathOf(uri: string): string {
  if (uri.startsWith('file:')) {
    try {
      return decodeURIComponent(new URL(uri).pathname);
    } catch {
      return uri;
    }
  }
  try {
    return decodeURIComponent(uri);
  } catch {
    return uri;
  }
}

/**
 * The identity of a result across scans: SHA-256 over the tool's name, the rule id and the
 * first of these that the result has: its `partialFingerprints`, its `fingerprints`, else
 * its first location's path and start line with its message. The tool's version is left
 * out, so a new release of the scanner keeps the findings of the last one.
 */
export function fingerprintKey(
  tool: string,
  ruleId: string,
  result: { partialFingerprints?: unknown; fingerprints?: unknown },
  locations: readonly SarifLocation[],
  message: string,
): { fingerprint: string; basis: FingerprintBasis } {
  let basis: FingerprintBasis;
  let parts: unknown;
  const entries = (bag: unknown) =>
    bag !== null && typeof bag === 'object' && Object.keys(bag).length > 0
      ? Object.entries(bag as Record<string, unknown>).sort(([a], [b]) =>
          a < b ? -1 : a > b ? 1 : 0,
        )
      : undefined;
  const partial = entries(result.partialFingerprints);
  const full = entries(result.fingerprints);
  if (partial !== undefined) {
    basis = 'partialFingerprints';
    parts = partial;
  } else if (full !== undefined) {
    basis = 'fingerprints';
    parts = full;
  } else {
    basis = 'location';
    const first = locations[0];
    parts = [first?.path ?? '', first?.startLine ?? 0, message];
  }
  const fingerprint = createHash('sha256')
    .update(JSON.stringify(['vitrine-sarif-v1', tool, ruleId, basis, parts]))
    .digest('hex');
  return { fingerprint, basis };
}
