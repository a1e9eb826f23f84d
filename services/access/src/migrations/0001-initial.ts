import { type Kysely, sql } from 'kysely';

/** The access service's first schema: principals, requests and their decisions, credentials, revocations, keys. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('partners')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation', 'text', (c) => c.notNull())
    .addColumn('jurisdictions', sql`text[]`, (c) => c.notNull())
    .addColumn('contact', 'text', (c) => c.notNull())
    .addColumn('public_key', 'bytea', (c) => c.notNull().unique())
    .addColumn('registered_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('operators')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('roles', sql`text[]`, (c) => c.notNull())
    .addColumn('public_key', 'bytea', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('access_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('partner_id', 'text', (c) => c.notNull().references('partners.id'))
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('jurisdiction', 'text', (c) => c.notNull())
    .addColumn('scope_kinds', sql`text[]`, (c) => c.notNull())
    .addColumn('scope_products', sql`text[]`, (c) => c.notNull())
    .addColumn('scope_artifacts', sql`text[]`, (c) => c.notNull())
    .addColumn('scope_actions', sql`text[]`, (c) => c.notNull())
    .addColumn('not_before', 'timestamptz')
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('justification', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('approvals_required', 'int4', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('credential_id', 'text')
    .execute();
  await db.schema
    .createIndex('access_requests_listing')
    .on('access_requests')
    .columns(['created_at desc', 'id desc'])
    .execute();
  await db.schema
    .createIndex('access_requests_by_partner')
    .on('access_requests')
    .columns(['partner_id', 'created_at desc'])
    .execute();

  await db.schema
    .createTable('decisions')
    .addColumn('request_id', 'text', (c) => c.notNull().references('access_requests.id'))
    .addColumn('approver', 'text', (c) => c.notNull())
    .addColumn('approve', 'boolean', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('decisions_pk', ['request_id', 'approver'])
    .execute();
  await db.schema
    .createIndex('decisions_by_approver')
    .on('decisions')
    .columns(['approver', 'at'])
    .execute();

  await db.schema
    .createTable('credentials')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('partner_id', 'text')
    .addColumn('request_id', 'text')
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('token', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'timestamptz', (c) => c.notNull())
    .addColumn('not_before', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('credentials_by_key')
    .on('credentials')
    .columns(['key_id', 'expires_at'])
    .execute();

  await db.schema
    .createTable('revocations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('partner_id', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('revoked_by', 'text', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('revocations_listing')
    .on('revocations')
    .columns(['at desc', 'id desc'])
    .execute();

  await db.schema
    .createTable('token_keys')
    .addColumn('key_id', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'int4', (c) => c.notNull().unique())
    .addColumn('public_key', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('retired_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('trust_state')
    .addColumn('id', 'int4', (c) => c.primaryKey())
    .addColumn('version', 'int8', (c) => c.notNull())
    .execute();
  await sql`insert into trust_state (id, version) values (1, 0)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'trust_state',
    'token_keys',
    'revocations',
    'credentials',
    'decisions',
    'access_requests',
    'operators',
    'partners',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
