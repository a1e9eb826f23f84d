import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Timestamp, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { type AccessRequest, RequestState } from '@vitrine/proto/access';
import { type ActionWord, accessActions, type KindWord } from '@vitrine/proto/enum-words';
import { type AccessFlags, withAccess } from './access-client.js';
import {
  requestDetailLines,
  requestJson,
  requestTableLines,
  revocationJson,
  revocationTableLines,
} from './access-view.js';
import { CliError, usageError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { writeResult } from './output.js';
import { collectPages, PAGE_SIZE } from './pages.js';
import { isoTime } from './plain-values.js';
import { saveCredential } from './profile.js';

/** The flags of `vitrine access request`. */
export interface RequestOptions extends AccessFlags {
  readonly jurisdiction: string;
  readonly kind?: readonly KindWord[] | undefined;
  readonly product?: readonly string[] | undefined;
  readonly artifact?: readonly string[] | undefined;
  readonly action?: readonly ActionWord[] | undefined;
  readonly for?: string | undefined;
  readonly from?: string | undefined;
  readonly until?: string | undefined;
  readonly justification: string;
  readonly partner?: string | undefined;
}

/** The flags of `vitrine access ls`. */
export interface ListOptions extends AccessFlags {
  readonly partner?: string | undefined;
  readonly approver?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
}

/** The flags of `vitrine access revoke`. */
export interface RevokeOptions extends AccessFlags {
  readonly credential?: string | undefined;
  readonly partner?: string | undefined;
  readonly key?: string | undefined;
  readonly reason: string;
}

/** Asks for access: the partner for itself, or an operator on a partner's behalf (`--partner`). */
export async function requestAccess(io: CliIo, options: RequestOptions): Promise<void> {
  const window = requestWindow(options);
  const request = await withAccess(io, options, async ({ client }) => {
    const response = await client.requestAccess({
      partnerId: options.partner ?? '',
      jurisdiction: options.jurisdiction.toUpperCase(),
      scope: {
        artifactKinds: [...(options.kind ?? [])],
        products: [...(options.product ?? [])],
        artifactIds: [...(options.artifact ?? [])],
        actions: (options.action ?? ['read']).map((a) => accessActions.value(a)),
      },
      ...window,
      justification: options.justification,
    });
    return required(response.request);
  });
  printRequest(io, options, request, [
    '',
    `an approver decides with \`vitrine access approve ${request.id} --reason …\``,
  ]);
}

/** Approves or denies a request, with a reason. */
export async function decideRequest(
  io: CliIo,
  id: string,
  approve: boolean,
  options: AccessFlags & { readonly reason: string },
): Promise<void> {
  const request = await withAccess(
    io,
    options,
    async ({ client }) =>
      required(
        (await client.decideAccessRequest({ requestId: id, approve, reason: options.reason }))
          .request,
      ),
    `access request ${id}`,
  );
  printRequest(io, options, request, []);
}

/**
 * Shows a request. When it is the calling partner's and approved (not revoked), its
 * credential is stored in the profile, so the next registry command uses it.
 */
export async function showRequest(io: CliIo, id: string, options: AccessFlags): Promise<void> {
  const { request, stored } = await withAccess(
    io,
    options,
    async ({ client, profile }) => {
      const found = required((await client.getAccessRequest({ id })).request);
      const mine = profile.principal === `partner:${found.partnerId}`;
      const usable = found.credential !== '' && found.state !== RequestState.REVOKED;
      if (!mine || !usable) return { request: found, stored: '' };
      await saveCredential(profile, found.credential);
      return { request: found, stored: profile.name };
    },
    `access request ${id}`,
  );
  const note = stored
    ? ['', `credential ${request.credentialId} stored in profile '${stored}'`]
    : [];
  writeResult(io, options.json === true, {
    json: () => ({ request: requestJson(request), storedInProfile: stored || null }),
    human: () => [...requestDetailLines(request), ...note],
  });
}

/** Lists requests (all for operators, its own for a partner), following page tokens. */
export async function listRequests(io: CliIo, options: ListOptions): Promise<void> {
  const requests = await withAccess(io, options, ({ client }) =>
    collectPages(async (pageToken) => {
      const page = await client.listAccessRequests({
        partnerId: options.partner ?? '',
        approver: options.approver ?? '',
        ...timeRange(options),
        pageSize: PAGE_SIZE,
        pageToken,
      });
      return { items: page.requests, nextPageToken: page.nextPageToken };
    }),
  );
  writeResult(io, options.json === true, {
    json: () => ({ requests: requests.map(requestJson) }),
    human: () => requestTableLines(requests),
  });
}

/** Lists revocations (all for operators, its own for a partner), newest first. */
export async function listRevocations(io: CliIo, options: ListOptions): Promise<void> {
  const revocations = await withAccess(io, options, ({ client }) =>
    collectPages(async (pageToken) => {
      const page = await client.listRevocations({
        partnerId: options.partner ?? '',
        ...timeRange(options),
        pageSize: PAGE_SIZE,
        pageToken,
      });
      return { items: page.revocations, nextPageToken: page.nextPageToken };
    }),
  );
  writeResult(io, options.json === true, {
    json: () => ({ revocations: revocations.map(revocationJson) }),
    human: () => revocationTableLines(revocations),
  });
}

/** Revokes a credential, every credential of a partner, or a token key. */
export async function revoke(io: CliIo, options: RevokeOptions): Promise<void> {
  const targets = [
    options.credential && ({ case: 'credentialId', value: options.credential } as const),
    options.partner && ({ case: 'partnerId', value: options.partner } as const),
    options.key && ({ case: 'keyId', value: options.key } as const),
  ].filter((t) => typeof t === 'object');
  const [target] = targets;
  if (targets.length !== 1 || !target) {
    throw usageError('name exactly one of --credential, --partner or --key');
  }
  const revocation = await withAccess(
    io,
    options,
    async ({ client }) => {
      const response = await client.revoke({ target, reason: options.reason });
      return required(response.revocation);
    },
    `${target.case.replace('Id', '')} ${target.value}`,
  );
  writeResult(io, options.json === true, {
    json: () => ({ revocation: revocationJson(revocation) }),
    human: () => [
      `revoked ${target.case.replace('Id', '')} ${target.value} (${revocation.id}); every center refuses it as soon as it hears`,
    ],
  });
}

/** Makes a new token key the one that signs; the old one verifies until its tokens expire. */
export async function rotateKeys(io: CliIo, options: AccessFlags): Promise<void> {
  const active = await withAccess(io, options, async ({ client }) =>
    required((await client.rotateKeys({})).active),
  );
  writeResult(io, options.json === true, {
    json: () => ({ active: { keyId: active.keyId, createdAt: isoTime(active.createdAt) } }),
    human: () => [
      `new signing key ${active.keyId}; credentials signed by earlier keys stay valid until they expire`,
    ],
  });
}

function printRequest(io: CliIo, options: AccessFlags, request: AccessRequest, hint: string[]) {
  writeResult(io, options.json === true, {
    json: () => ({ request: requestJson(request) }),
    human: () => [
      ...requestDetailLines(request),
      ...(request.state === RequestState.PENDING ? hint : []),
    ],
  });
}

/** The window asked for: `--from`, and `--until` or `--for 72h|30d` (one of them). */
function requestWindow(options: RequestOptions): { notBefore?: Timestamp; expiresAt: Timestamp } {
  if ((options.for === undefined) === (options.until === undefined)) {
    throw usageError('say how long with exactly one of --for (e.g. 72h, 30d) or --until TIME');
  }
  const from = options.from === undefined ? undefined : timeFlag('--from', options.from);
  const start = from ? Number(from.seconds) * 1000 : Date.now();
  const expiresAt = options.until
    ? timeFlag('--until', options.until)
    : timestampFromDate(new Date(start + durationMs(options.for ?? '')));
  return { ...(from ? { notBefore: from } : {}), expiresAt };
}

/** `--since` / `--until` as a listing's time range. */
function timeRange(options: ListOptions): { since?: Timestamp; until?: Timestamp } {
  return {
    ...(options.since ? { since: timeFlag('--since', options.since) } : {}),
    ...(options.until ? { until: timeFlag('--until', options.until) } : {}),
  };
}

/** `72h`, `30d` in milliseconds. */
function durationMs(text: string): number {
  const match = /^([1-9][0-9]{0,4})([hd])$/.exec(text);
  if (!match) throw usageError(`--for takes hours or days such as 72h or 30d, got '${text}'`);
  return Number(match[1]) * (match[2] === 'd' ? 24 : 1) * 3_600_000;
}

/** An ISO-8601 time flag. */
function timeFlag(flag: string, text: string): Timestamp {
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) {
    throw usageError(`${flag} takes a time such as 2026-12-01T09:00:00Z, got '${text}'`);
  }
  return timestampFromDate(at);
}

/** A response field the access service always fills. */
function required<T>(value: T | undefined): T {
  if (value === undefined) throw new CliError('INTERNAL', 'access sent an incomplete answer');
  return value;
}

/** The flags of `vitrine access receipt`. */
export interface ReceiptOptions extends AccessFlags {
  readonly index?: number | undefined;
  readonly request?: string | undefined;
  readonly credential?: string | undefined;
  readonly output?: string | undefined;
}

/**
 * Fetches a receipt for one decision of the access log (by leaf index, or the newest about
 * a request or credential): the partner concerned or an operator only.
 */
export async function decisionReceipt(io: CliIo, options: ReceiptOptions): Promise<void> {
  const subjects = [
    options.index !== undefined && ({ case: 'leafIndex', value: BigInt(options.index) } as const),
    options.request && ({ case: 'requestId', value: options.request } as const),
    options.credential && ({ case: 'credentialId', value: options.credential } as const),
  ].filter((s) => typeof s === 'object');
  const [subject] = subjects;
  if (subjects.length !== 1 || !subject) {
    throw usageError('name exactly one of --index, --request or --credential');
  }
  const what = `decision ${subject.case === 'leafIndex' ? subject.value : subject.value}`;
  const res = await withAccess(
    io,
    options,
    ({ client }) => client.getDecisionReceipt({ subject }),
    what,
  );
  if (options.output !== undefined) {
    await writeFile(resolve(io.cwd, options.output), res.receipt).catch((err: Error) => {
      throw new CliError('IO', `cannot write ${options.output}: ${err.message}`);
    });
  }
  const summary = { leafIndex: Number(res.leafIndex), treeSize: Number(res.treeSize) };
  writeResult(io, options.json === true, {
    json: () => ({
      ...summary,
      ...(options.output !== undefined ? { file: options.output } : { receipt: res.receipt }),
    }),
    human: () =>
      options.output !== undefined
        ? [
            `receipt for access-log decision ${res.leafIndex}, in the tree of ${res.treeSize}, written to ${options.output}; check it with vitrine verify receipt ${options.output} --keys keys.json`,
          ]
        : res.receipt.replace(/\n$/, '').split('\n'),
  });
}
