import { cvssBand } from '@vitrine/advisories';
import { findingStatuses, severities, slaStates } from '@vitrine/proto/enum-words';
import type {
  Comment,
  Finding,
  FindingHistoryEntry,
  FindingLocation,
  FindingUpdated,
} from '@vitrine/proto/finding';
import { isoTime, orNull, safeNumber } from './plain-values.js';
import { formatFields, formatTable } from './text-table.js';

/** Converts a registry `Finding` into the plain JSON object the CLI prints. */
export function findingJson(finding: Finding) {
  return {
    id: finding.id,
    artifactIds: [...finding.artifactIds],
    title: finding.title,
    description: orNull(finding.description),
    severity: severities.label(finding.severity),
    severityReason: orNull(finding.severityReason),
    cvssVector: orNull(finding.cvssVector),
    cvssScore: finding.cvssScore ?? null,
    cvssBand: finding.cvssScore === undefined ? null : cvssBand(finding.cvssScore),
    status: findingStatuses.label(finding.status),
    assignee: orNull(finding.assignee),
    fixArtifactId: orNull(finding.fixArtifactId),
    origin: finding.origin,
    createdAt: isoTime(finding.createdAt),
    updatedAt: isoTime(finding.updatedAt),
    commentCount: finding.commentCount,
    duplicateOf: orNull(finding.duplicateOf),
    duplicates: [...finding.duplicates],
    effectiveStatus: findingStatuses.label(finding.effectiveStatus || finding.status),
    ruleId: orNull(finding.ruleId),
    tool: orNull(finding.tool),
    locations: finding.locations.map(locationJson),
    fingerprint: orNull(finding.fingerprint),
    candidateFixArtifactId: orNull(finding.candidateFixArtifactId),
    sla: slaJson(finding),
    discloseAfter: isoTime(finding.discloseAfter),
  };
}

/** A finding's service level: its state, days to fix, first triage and due date. */
function slaJson(finding: Finding) {
  return {
    state: slaStates.label(finding.slaState),
    daysToFix: finding.daysToFix === 0 ? null : finding.daysToFix,
    triagedAt: isoTime(finding.triagedAt),
    dueAt: isoTime(finding.dueAt),
  };
}

/** A location as the CLI prints it: lines are null when the scanner named none. */
function locationJson(location: FindingLocation) {
  return {
    path: location.path,
    startLine: location.startLine || null,
    endLine: location.endLine || null,
  };
}

/** `path:start-end`, `path:line` or `path`. */
function locationText(location: FindingLocation): string {
  const { path, startLine, endLine } = location;
  if (startLine === 0) return path;
  return endLine > startLine ? `${path}:${startLine}-${endLine}` : `${path}:${startLine}`;
}

/** Converts a comment into the plain JSON object the CLI prints. */
export function commentJson(comment: Comment) {
  return {
    id: comment.id,
    findingId: comment.findingId,
    text: comment.text,
    author: comment.author,
    origin: comment.origin,
    createdAt: isoTime(comment.createdAt),
  };
}

/**
 * Converts one history entry: who changed what, where and when, and which of its
 * fields a concurrent change overwrote (nothing written is ever lost, only outranked).
 */
export function historyEntryJson(entry: FindingHistoryEntry) {
  return {
    origin: entry.origin,
    seq: safeNumber(entry.seq),
    at: isoTime(entry.at),
    actor: entry.actor,
    change: changeJson(entry.change),
    overwrittenFields: [...entry.overwrittenFields],
  };
}

/** The body of a history entry, tagged by `type`. */
function changeJson(change: FindingHistoryEntry['change']) {
  switch (change.case) {
    case 'created':
      return {
        type: 'created' as const,
        artifactIds: [...change.value.artifactIds],
        title: change.value.title,
        description: orNull(change.value.description),
        severity: severities.label(change.value.severity),
        severityReason: orNull(change.value.severityReason),
        cvssVector: orNull(change.value.cvssVector),
        cvssScore: change.value.cvssScore ?? null,
        discloseAfter: orNull(change.value.discloseAfter),
      };
    case 'updated':
      return { type: 'updated' as const, fields: updatedFields(change.value) };
    case 'comment':
      return {
        type: 'comment' as const,
        commentId: change.value.commentId,
        text: change.value.text,
      };
    case undefined:
      return { type: 'unknown' as const };
    default: {
      const unhandled: never = change;
      throw new Error(`unhandled history change ${String(unhandled)}`);
    }
  }
}

/** Only the fields an update set, with enum words. */
function updatedFields(update: FindingUpdated): Record<string, string | number> {
  const fields: Record<string, string | number> = {};
  if (update.title !== undefined) fields.title = update.title;
  if (update.description !== undefined) fields.description = update.description;
  if (update.severity !== undefined) fields.severity = severities.label(update.severity);
  if (update.severityReason !== undefined) fields.severityReason = update.severityReason;
  if (update.cvssVector !== undefined) fields.cvssVector = update.cvssVector;
  if (update.cvssScore !== undefined) fields.cvssScore = update.cvssScore;
  if (update.status !== undefined) fields.status = findingStatuses.label(update.status);
  if (update.assignee !== undefined) fields.assignee = update.assignee;
  if (update.fixArtifactId !== undefined) fields.fixArtifactId = update.fixArtifactId;
  if (update.duplicateOf !== undefined) fields.duplicateOf = update.duplicateOf;
  if (update.addedArtifactIds.length > 0) {
    fields.addedArtifactIds = update.addedArtifactIds.join(', ');
  }
  if (update.candidateFixArtifactId !== undefined) {
    fields.candidateFixArtifactId = update.candidateFixArtifactId;
  }
  if (update.locations !== undefined) {
    fields.locations = update.locations.items.map(locationText).join(', ');
  }
  if (update.discloseAfter !== undefined) fields.discloseAfter = update.discloseAfter || 'none';
  return fields;
}

/** The `finding show` / `create` / `update` text: the finding's fields, aligned. */
export function findingDetailLines(finding: Finding): string[] {
  return formatFields([
    ['id', finding.id],
    ['title', finding.title],
    ['severity', severities.label(finding.severity)],
    ['severity reason', finding.severityReason],
    ['status', statusText(finding)],
    ['duplicate of', finding.duplicateOf],
    ['duplicates', finding.duplicates.join(', ')],
    ['assignee', finding.assignee],
    ['cvss', finding.cvssVector],
    ['cvss score', cvssScoreText(finding)],
    ['artifacts', finding.artifactIds.join(', ')],
    ['fix', finding.fixArtifactId],
    ['candidate fix', finding.candidateFixArtifactId],
    ['tool', finding.tool],
    ['rule', finding.ruleId],
    ['locations', finding.locations.map(locationText).join(', ')],
    ['sla', slaText(finding)],
    ['due', isoTime(finding.dueAt) ?? ''],
    ['embargo until', isoTime(finding.discloseAfter) ?? ''],
    ['origin', finding.origin],
    ['created', isoTime(finding.createdAt) ?? ''],
    ['updated', isoTime(finding.updatedAt) ?? ''],
    ['comments', String(finding.commentCount)],
    ['description', finding.description],
  ]);
}

/** The status, with the one that counts when it differs: "duplicate (effective: fixed)". */
function statusText(finding: Finding): string {
  const status = findingStatuses.label(finding.status);
  const effective = findingStatuses.label(finding.effectiveStatus);
  return effective === status || finding.effectiveStatus === 0
    ? status
    : `${status} (effective: ${effective})`;
}

/** "overdue (7 days to fix, triaged 2026-…)"; just the state without a service level. */
function slaText(finding: Finding): string {
  const state = slaStates.label(finding.slaState);
  if (finding.daysToFix === 0) return state;
  const triaged = isoTime(finding.triagedAt);
  return `${state} (${finding.daysToFix} days to fix${triaged ? `, triaged ${triaged}` : ''})`;
}

/** "9.8 (critical)" for a scored finding; '' otherwise. */
function cvssScoreText(finding: Finding): string {
  const score = finding.cvssScore;
  return score === undefined ? '' : `${score.toFixed(1)} (${cvssBand(score)})`;
}

/** One line per comment: when, who, where, what. */
export function commentLines(comments: readonly Comment[]): string[] {
  return comments.map(
    (c) => `${isoTime(c.createdAt) ?? '?'}  ${c.author || '?'} @${c.origin}: ${c.text}`,
  );
}

/** One line per history entry, flagging fields a concurrent change overwrote. */
export function historyLines(history: readonly FindingHistoryEntry[]): string[] {
  return history.map((entry) => {
    const json = historyEntryJson(entry);
    const change = json.change;
    const what =
      change.type === 'updated'
        ? `updated ${Object.entries(change.fields)
            .map(([field, value]) => `${field}=${value}`)
            .join(', ')}`
        : change.type === 'comment'
          ? `commented ${change.commentId}`
          : change.type === 'created' && change.severityReason !== null
            ? `created, severity ${change.severity} because: ${change.severityReason}`
            : change.type;
    const overwritten =
      json.overwrittenFields.length > 0
        ? `  [conflict: ${json.overwrittenFields.join(', ')} overwritten]`
        : '';
    return `${json.at ?? '?'}  ${entry.origin}#${entry.seq}  ${entry.actor || '?'}  ${what}${overwritten}`;
  });
}

/** The `finding ls` text: a table, or a line saying nothing matched. */
export function findingTableLines(findings: readonly Finding[], where: string): string[] {
  if (findings.length === 0) return [`no findings at ${where}`];
  return formatTable(
    ['id', 'severity', 'status', 'sla', 'due', 'assignee', 'candidate fix', 'updated', 'title'],
    findings.map((f) => [
      f.id,
      severities.label(f.severity),
      findingStatuses.label(f.status),
      slaStates.label(f.slaState),
      isoTime(f.dueAt) ?? '-',
      f.assignee || '-',
      f.candidateFixArtifactId.slice(0, 12) || '-',
      isoTime(f.updatedAt) ?? '',
      f.title,
    ]),
  );
}
