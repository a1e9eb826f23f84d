/** A date, or an RFC 3339 date-time with its offset (RFC 3339 §5.6). */
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ]([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d{1,9})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/** What a disclosure date may be written as, for messages. */
export const DISCLOSURE_DATE_FORMS = 'a date (YYYY-MM-DD, midnight UTC) or an RFC 3339 date-time';

/**
 * The moment a planned disclosure date names, in its one stored form (RFC 3339 UTC with
 * milliseconds, as `Date.toISOString` writes it): a date alone is midnight UTC. Undefined
 * for anything else, including days a month does not have.
 */
export function disclosureDate(text: string): string | undefined {
  const match = DATE.exec(text) ?? DATE_TIME.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return undefined;
  const ms = DATE.test(text)
    ? calendar.getTime()
    : Date.parse(text.toUpperCase().replace(' ', 'T'));
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
