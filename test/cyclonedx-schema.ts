/**
 * The CycloneDX 1.6 JSON schema with the SPDX licence list and JSF schemas it refers to (vendored in
 * test/fixtures/cyclonedx with their licence note), compiled once with ajv (draft-07, formats
 * checked): what an exported CycloneDX VEX document is held to.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { repoRoot } from './data-path.js';

const schema = (name: string) => JSON.parse(readFileSync(resolve(repoRoot, 'test/fixtures/cyclonedx', name), 'utf8')) as object;
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);
ajv.addSchema(schema('spdx.schema.json'));
ajv.addSchema(schema('jsf-0.82.schema.json'));
const validate = ajv.compile(schema('bom-1.6.schema.json'));

/** The schema's complaints about `bom` (instance path and message); empty when it is valid. */
export function cycloneDxSchemaErrors(bom: unknown): string[] {
  return validate(bom) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''}`);
}
