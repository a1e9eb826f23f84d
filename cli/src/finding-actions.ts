import type { SeverityWord, StatusWord } from '@vitrine/proto/enum-words';
import { findingStatuses, severities } from '@vitrine/proto/enum-words';
import type { Finding } from '@vitrine/proto/finding';
import { resolveArtifactId } from './artifact-ids.js';
import { CliError, usageError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import {
  commentJson,
  commentLines,
  findingDetailLines,
  findingJson,
  findingTableLines,
  historyEntryJson,
  historyLines,
} from './finding-view.js';
import { writeResult } from './output.js';
import { collectPages, PAGE_SIZE } from './pages.js';
import { withRegistry } from './run-command.js';
import type { TargetOptions } from './target-options.js';

/** The flags of `vitrine finding create`. */
export interface FindingCreateOptions extends TargetOptions {
  readonly artifact: readonly string[];
  readonly title: string;
  readonly severity?: SeverityWord | undefined;
  readonly description?: string | undefined;
  readonly cvss?: string | undefined;
  readonly severityReason?: string | undefined;
  readonly discloseAfter?: string | undefined;
}

/** The flags of `vitrine finding update`; only the fields given change. */
export interface FindingUpdateOptions extends TargetOptions {
  readonly status?: StatusWord | undefined;
  readonly severity?: SeverityWord | undefined;
  readonly assignee?: string | undefined;
  readonly fix?: string | undefined;
  readonly title?: string | undefined;
  readonly description?: string | undefined;
  readonly cvss?: string | undefined;
  readonly severityReason?: string | undefined;
  readonly duplicateOf?: string | undefined;
  readonly discloseAfter?: string | undefined;
}

/** The flags of `vitrine finding ls`. */
export interface FindingListOptions extends TargetOptions {
  readonly artifact?: string | undefined;
  readonly status?: StatusWord | undefined;
  readonly severity?: SeverityWord | undefined;
  readonly candidateFix?: boolean | undefined;
  readonly overdue?: boolean | undefined;
}

/** Records a finding against one or more artifacts at the given center. */
export async function createFinding(io: CliIo, options: FindingCreateOptions): Promise<void> {
  if (options.title.trim() === '') throw usageError('--title must not be empty');
  if (options.severity === undefined && !options.cvss) {
    throw usageError('give --severity, or --cvss for the severity to follow its score');
  }
  const finding = await withRegistry(io, options, 'write', async ({ client, target }) => {
    const artifactIds: string[] = [];
    for (const id of options.artifact) {
      artifactIds.push(await resolveArtifactId(client, id, target.label));
    }
    const response = await client.createFinding({
      artifactIds,
      title: options.title,
      description: options.description ?? '',
      severity: options.severity === undefined ? 0 : severities.value(options.severity),
      cvssVector: options.cvss ?? '',
      severityReason: options.severityReason ?? '',
      discloseAfter: options.discloseAfter ?? '',
    });
    return required(response.finding, target.label);
  });
  printFinding(io, options.json === true, finding);
}

/** Changes the fields given; the registry enforces the status lifecycle. */
export async function updateFinding(
  io: CliIo,
  id: string,
  options: FindingUpdateOptions,
): Promise<void> {
  const changes = {
    ...(options.title !== undefined && { title: options.title }),
    ...(options.description !== undefined && { description: options.description }),
    ...(options.severity !== undefined && { severity: severities.value(options.severity) }),
    ...(options.cvss !== undefined && { cvssVector: options.cvss }),
    ...(options.severityReason !== undefined && { severityReason: options.severityReason }),
    ...(options.status !== undefined && { status: findingStatuses.value(options.status) }),
    ...(options.assignee !== undefined && { assignee: options.assignee }),
    ...(options.duplicateOf !== undefined && { duplicateOf: options.duplicateOf }),
    ...(options.discloseAfter !== undefined && { discloseAfter: options.discloseAfter }),
  };
  if (Object.keys(changes).length === 0 && options.fix === undefined) {
    throw usageError(
      'nothing to change: pass at least one of --status, --severity, --assignee, --fix, --duplicate-of, --title, --description, --cvss, --severity-reason, --disclose-after',
    );
  }
  if (options.duplicateOf !== undefined && (options.status ?? 'duplicate') !== 'duplicate') {
    throw usageError('--duplicate-of makes the status duplicate: leave out --status');
  }
  // Without --fix the finding is the only thing looked up, so NOT_FOUND can name it.
  const subject = options.fix === undefined ? `finding ${id}` : undefined;
  const finding = await withRegistry(
    io,
    options,
    'write',
    async ({ client, target }) => {
      const fix =
        options.fix === undefined
          ? undefined
          : await resolveArtifactId(client, options.fix, target.label);
      const response = await client.updateFinding({
        id,
        ...changes,
        ...(fix !== undefined && { fixArtifactId: fix }),
      });
      return required(response.finding, target.label);
    },
    subject,
  );
  printFinding(io, options.json === true, finding);
}

/** Adds a comment to a finding. */
export async function commentOnFinding(
  io: CliIo,
  id: string,
  options: TargetOptions & { readonly text: string },
): Promise<void> {
  if (options.text.trim() === '') throw usageError('--text must not be empty');
  const { where, comment } = await withRegistry(
    io,
    options,
    'write',
    async ({ client, target }) => {
      const response = await client.addComment({ findingId: id, text: options.text });
      return { where: target.label, comment: required(response.comment, target.label) };
    },
    `finding ${id}`,
  );
  writeResult(io, options.json === true, {
    json: () => ({ comment: commentJson(comment) }),
    human: () => [`comment ${comment.id} added to finding ${comment.findingId} at ${where}`],
  });
}

/** Lists every finding at the center that matches the filters, following page tokens. */
export async function listFindings(io: CliIo, options: FindingListOptions): Promise<void> {
  const { where, findings } = await withRegistry(
    io,
    options,
    'read',
    async ({ client, target }) => {
      const artifactId = options.artifact
        ? await resolveArtifactId(client, options.artifact, target.label)
        : '';
      const found = await collectPages(async (pageToken) => {
        const page = await client.listFindings({
          artifactId,
          status: options.status === undefined ? 0 : findingStatuses.value(options.status),
          severity: options.severity === undefined ? 0 : severities.value(options.severity),
          candidateFix: options.candidateFix === true,
          overdue: options.overdue === true,
          pageSize: PAGE_SIZE,
          pageToken,
        });
        return { items: page.findings, nextPageToken: page.nextPageToken };
      });
      return { where: target.label, findings: found };
    },
  );
  writeResult(io, options.json === true, {
    json: () => ({ findings: findings.map(findingJson) }),
    human: () => findingTableLines(findings, where),
  });
}

/** Shows a finding with its comments and full history, conflicts included. */
export async function showFinding(io: CliIo, id: string, options: TargetOptions): Promise<void> {
  const response = await withRegistry(
    io,
    options,
    'read',
    async ({ client, target }) => {
      const got = await client.getFinding({ id });
      const finding = required(got.finding, target.label);
      return { finding, comments: got.comments, history: got.history };
    },
    `finding ${id}`,
  );
  writeResult(io, options.json === true, {
    json: () => ({
      finding: findingJson(response.finding),
      comments: response.comments.map(commentJson),
      history: response.history.map(historyEntryJson),
    }),
    human: () => [
      ...findingDetailLines(response.finding),
      '',
      `comments (${response.comments.length}):`,
      ...commentLines(response.comments).map((line) => `  ${line}`),
      '',
      `history (${response.history.length}):`,
      ...historyLines(response.history).map((line) => `  ${line}`),
    ],
  });
}

/** Prints a finding after create or update. */
function printFinding(io: CliIo, json: boolean, finding: Finding): void {
  writeResult(io, json, {
    json: () => ({ finding: findingJson(finding) }),
    human: () => findingDetailLines(finding),
  });
}

/** A response field the registry must always fill. */
function required<T>(value: T | undefined, where: string): T {
  if (value === undefined) throw new CliError('INTERNAL', `${where} sent an incomplete answer`);
  return value;
}
