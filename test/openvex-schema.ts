/**
 * The OpenVEX v0.2.0 JSON schema (vendored in test/fixtures/openvex with its licence note), compiled
 * once with ajv (draft 2020-12, formats checked): what an exported document is held to.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { repoRoot } from './data-path.js';

const schema = JSON.parse(readFileSync(resolve(repoRoot, 'test/fixtures/openvex/openvex_json_schema.json'), 'utf8')) as object;
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);
// ajv-formats has no "iri" (RFC 3987): an absolute IRI is a scheme, a colon, then no whitespace
// and none of the characters RFC 3987 excludes.
ajv.addFormat('iri', /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`]+$/u);
const validate = ajv.compile(schema);

/** The schema's complaints about `document` (instance path and message); empty when it is valid. */
export function openVexSchemaErrors(document: unknown): string[] {
  return validate(document) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''}`);
}
