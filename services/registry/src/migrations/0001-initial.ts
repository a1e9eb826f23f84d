import { type Kysely, sql } from 'kysely';

/** The registry's first schema: event log, derived artifact and finding state. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('events')
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('seq', 'int8', (c) => c.notNull())
    .addColumn('position', 'int8', (c) => c.notNull().generatedAlwaysAsIdentity().unique())
    .addColumn('hlc', 'int8', (c) => c.notNull())
    .addColumn('residency', sql`text[]`, (c) => c.notNull())
    .addColumn('header', 'bytea', (c) => c.notNull())
    .addColumn('signature', 'bytea', (c) => c.notNull())
    .addColumn('digest', 'bytea', (c) => c.notNull())
    .addColumn('body_case', 'text')
    .addColumn('body', 'bytea')
    .addPrimaryKeyConstraint('events_pk', ['origin', 'seq'])
    .execute();

  await db.schema
    .createTable('log_heads')
    .addColumn('origin', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'int8', (c) => c.notNull())
    .addColumn('digest', 'bytea', (c) => c.notNull())
    .addColumn('hlc', 'int8', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('artifacts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('product', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('size', 'int8', (c) => c.notNull())
    .addColumn('content_digest', 'bytea', (c) => c.notNull())
    .addColumn('chunk_count', 'int4', (c) => c.notNull())
    .addColumn('residency', sql`text[]`, (c) => c.notNull())
    .addColumn('supersedes', 'text', (c) => c.notNull())
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('published_hlc', 'int8', (c) => c.notNull())
    .addColumn('manifest', 'bytea', (c) => c.notNull())
    .addColumn('manifest_signature', 'bytea', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('bytes_held', 'int8', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('artifacts_listing')
    .on('artifacts')
    .columns(['published_hlc desc', 'id desc'])
    .execute();

  await db.schema
    .createTable('artifact_chunks')
    .addColumn('artifact_id', 'text', (c) => c.notNull().references('artifacts.id'))
    .addColumn('idx', 'int4', (c) => c.notNull())
    .addColumn('digest', 'bytea', (c) => c.notNull())
    .addColumn('size', 'int4', (c) => c.notNull())
    .addColumn('offset', 'int8', (c) => c.notNull())
    .addPrimaryKeyConstraint('artifact_chunks_pk', ['artifact_id', 'idx'])
    .execute();

  await db.schema
    .createTable('chunks')
    .addColumn('digest', 'bytea', (c) => c.primaryKey())
    .addColumn('size', 'int4', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('findings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('cvss_vector', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('assignee', 'text', (c) => c.notNull())
    .addColumn('fix_artifact_id', 'text', (c) => c.notNull())
    .addColumn('residency', sql`text[]`, (c) => c.notNull())
    .addColumn('created_hlc', 'int8', (c) => c.notNull())
    .addColumn('updated_hlc', 'int8', (c) => c.notNull())
    .addColumn('comment_count', 'int4', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex('findings_listing')
    .on('findings')
    .columns(['created_hlc desc', 'id desc'])
    .execute();

  await db.schema
    .createTable('finding_artifacts')
    .addColumn('finding_id', 'text', (c) => c.notNull().references('findings.id'))
    .addColumn('artifact_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('finding_artifacts_pk', ['finding_id', 'artifact_id'])
    .execute();
  await db.schema
    .createIndex('finding_artifacts_by_artifact')
    .on('finding_artifacts')
    .columns(['artifact_id'])
    .execute();

  await db.schema
    .createTable('finding_field_versions')
    .addColumn('finding_id', 'text', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('hlc', 'int8', (c) => c.notNull())
    .addColumn('origin', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('finding_field_versions_pk', ['finding_id', 'field'])
    .execute();

  await db.schema
    .createTable('finding_history')
    .addColumn('finding_id', 'text', (c) => c.notNull())
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('seq', 'int8', (c) => c.notNull())
    .addColumn('hlc', 'int8', (c) => c.notNull())
    .addColumn('overwritten_fields', sql`text[]`, (c) => c.notNull())
    .addPrimaryKeyConstraint('finding_history_pk', ['finding_id', 'origin', 'seq'])
    .execute();

  await db.schema
    .createTable('comments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('finding_id', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('author', 'text', (c) => c.notNull())
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('hlc', 'int8', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('comments_by_finding')
    .on('comments')
    .columns(['finding_id', 'hlc'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'comments',
    'finding_history',
    'finding_field_versions',
    'finding_artifacts',
    'findings',
    'chunks',
    'artifact_chunks',
    'artifacts',
    'log_heads',
    'events',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
