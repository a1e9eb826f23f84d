import { readFileSync } from 'node:fs';
import * as mandatory from '@secvisogram/csaf-validator-lib/mandatoryTests.js';
import { csaf_2_0_strict } from '@secvisogram/csaf-validator-lib/schemaTests.js';
import validateStrict from '@secvisogram/csaf-validator-lib/validateStrict.js';
import type { ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';

/**
 * The official schemas of the export formats (copied into `vectors/` and `src/schemas/`,
 * see their SOURCE.md) and BSI's CSAF mandatory tests, for any test that checks an
 * exported document: this package's and the registry's export over RPC.
 */
const vectors = new URL('./vectors/', import.meta.url);

/** A JSON file of the test vectors, parsed. */
export const vectorJson = (path: string | URL) =>
  JSON.parse(readFileSync(new URL(path, vectors), 'utf8'));

function ajv2020() {
  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  addFormats.default(ajv);
  return ajv;
}

/** The OSV 1.7.5 schema. */
export function osvValidator(): ValidateFunction {
  return ajv2020().compile(vectorJson('osv/schema/osv-schema.json'));
}

/** The CSAF 2.0 schema, with FIRST's CVSS schemas it refers to. */
export function csafValidator(): ValidateFunction {
  const ajv = ajv2020();
  // The CSAF schema refers to FIRST's CVSS schemas by their ids without the date suffix.
  for (const version of ['2.0', '3.0', '3.1']) {
    // They are draft-04 documents whose keywords mean the same in draft 2020-12.
    const {
      $schema: _draft,
      id: _id,
      ...schema
    } = vectorJson(`csaf/schema/first-cvss-v${version}.json`);
    ajv.addSchema({ ...schema, $id: `https://www.first.org/cvss/cvss-v${version}.json` });
  }
  return ajv.compile(vectorJson('csaf/schema/csaf_json_schema.json'));
}

/** The SARIF 2.1.0 schema. */
export function sarifValidator(): ValidateFunction {
  const schema = JSON.parse(
    readFileSync(new URL('../src/schemas/sarif-schema-2.1.0.json', import.meta.url), 'utf8'),
  );
  const ajv = new AjvDraft04.default({ strict: false });
  addFormats.default(ajv);
  return ajv.compile(schema);
}

/** BSI's strict schema test and every CSAF 2.0 mandatory test (§6.1) over a document. */
export async function mandatoryTests(document: unknown) {
  const result = await validateStrict([csaf_2_0_strict, ...Object.values(mandatory)], document);
  return {
    isValid: result.isValid,
    failures: result.tests
      .filter((t) => !t.isValid)
      .map((t) => `${t.name}: ${JSON.stringify(t.errors)}`),
  };
}
