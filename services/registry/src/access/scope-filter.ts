import type { Scope } from '@vitrine/credentials';
import { type RawBuilder, sql } from 'kysely';

/** The part of a scope that says which artifacts it covers (kinds AND products AND ids). */
export type ScopeLimit = Pick<Scope, 'kinds' | 'products' | 'artifacts'>;

/** Column references of the artifact facts a scope is checked against. */
interface ArtifactColumns {
  readonly kind: string;
  readonly product: string;
  readonly id: string;
}

/** True when the limit narrows nothing: every artifact is covered. */
export function isUnlimited(limit: ScopeLimit): boolean {
  return limit.kinds.length === 0 && limit.products.length === 0 && limit.artifacts.length === 0;
}

/**
 * The SQL form of `scopeCovers` for listings: a condition over the named columns, so pages
 * hold only what the caller may see and page tokens stay exact. NULL facts (an artifact this
 * center does not hold) are not covered by a limit on them.
 */
export function coveredBy(limit: ScopeLimit, columns: ArtifactColumns): RawBuilder<boolean> {
  const parts: RawBuilder<unknown>[] = [];
  const narrow = (column: string, values: readonly string[]) => {
    if (values.length > 0) parts.push(sql`${sql.ref(column)} in (${sql.join([...values])})`);
  };
  narrow(columns.kind, limit.kinds);
  narrow(columns.product, limit.products);
  narrow(columns.id, limit.artifacts);
  if (parts.length === 0) return sql<boolean>`true`;
  return sql<boolean>`coalesce(${sql.join(parts, sql` and `)}, false)`;
}
