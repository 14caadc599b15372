/** The OpenAPI 3.1 description the server serves at /openapi.json. */

const error = { $ref: '#/components/schemas/Error' };
const bearer = [{ bearer: [] }];
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const errors = {
  '400': { description: 'Invalid request', ...json(error) },
  '401': { description: 'Missing or unknown token', ...json(error) },
  '403': { description: 'Token lacks the role, or a host credential writes another host', ...json(error) },
};

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: { title: 'fleetpatch', version: '0.1.0', description: 'Fleet patch management: inventory, findings and fleet numbers.' },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API token (viewer, operator, admin) or a host credential from /enroll' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' }, hint: { type: 'string' } } } },
      },
      Package: {
        type: 'object',
        required: ['ecosystem', 'name', 'version'],
        properties: { ecosystem: { type: 'string' }, name: { type: 'string' }, version: { type: 'string' }, arch: { type: 'string' }, sourceName: { type: 'string' }, sourceVersion: { type: 'string' }, epochKnown: { type: 'boolean' } },
      },
      CheckIn: {
        type: 'object',
        description: 'A full inventory (kind "full", with packages) or a delta against the list whose digest is baseDigest (kind "delta").',
        required: ['kind', 'rebootRequired', 'packageDigest'],
        properties: {
          kind: { enum: ['full', 'delta'] },
          packages: { type: 'array', items: { $ref: '#/components/schemas/Package' } },
          baseDigest: { type: 'string' },
          added: { type: 'array', items: { $ref: '#/components/schemas/Package' } },
          removed: { type: 'array', items: { $ref: '#/components/schemas/Package' } },
          packageDigest: { type: 'string', description: 'base64url SHA-256 of the sorted package lines after this check-in' },
          os: { type: 'object' },
          osEcosystem: { type: 'string' },
          arch: { type: 'string' },
          runningKernel: { type: 'string' },
          rebootRequired: { type: 'boolean' },
          bootTime: { type: 'string', format: 'date-time' },
          bootId: { type: 'string' },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
          agentVersion: { type: 'string' },
          availableUpdates: {
            type: 'array',
            description: "The package manager's pending upgrades (a dry run); every check-in carries the whole list, absent when not collected",
            items: { $ref: '#/components/schemas/AvailableUpdate' },
          },
        },
      },
      AvailableUpdate: {
        type: 'object',
        required: ['name', 'candidateVersion'],
        properties: { name: { type: 'string' }, arch: { type: 'string' }, installedVersion: { type: 'string' }, candidateVersion: { type: 'string' }, repository: { type: 'string' } },
      },
    },
  },
  paths: {
    '/api/v1/enroll': {
      post: {
        summary: 'Enroll a host with an enrollment token; returns the host credential (shown once)',
        requestBody: json({ type: 'object', required: ['token', 'hostname'], properties: { token: { type: 'string' }, hostname: { type: 'string' }, labels: { type: 'object' } } }),
        responses: { '201': { description: 'Enrolled', ...json({ type: 'object', properties: { hostname: { type: 'string' }, credential: { type: 'string' } } }) }, '400': errors['400'] },
      },
    },
    '/api/v1/hosts/{name}/inventory': {
      put: {
        summary: 'Check in: full inventory or delta; re-evaluates the host at once',
        security: bearer,
        parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: json({ $ref: '#/components/schemas/CheckIn' }),
        responses: { '200': { description: 'Accepted' }, '409': { description: 'Delta base unknown: send a full inventory', ...json(error) }, '413': { description: 'Too large', ...json(error) }, ...errors },
      },
    },
    '/api/v1/hosts/{name}/heartbeat': {
      post: { summary: 'Nothing changed; the host is alive', security: bearer, parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }], responses: { '204': { description: 'Recorded' }, ...errors } },
    },
    '/api/v1/fleet/summary': { get: { summary: 'Fleet numbers per bucket and team', security: bearer, responses: { '200': { description: 'Summary' }, ...errors } } },
    '/api/v1/hosts': {
      get: {
        summary: 'Hosts, worst first, paginated',
        security: bearer,
        parameters: ['page', 'pageSize', 'bucket', 'team', 'q', 'stale'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
        responses: { '200': { description: 'A page of hosts' }, ...errors },
      },
    },
    '/api/v1/hosts/{name}': { get: { summary: 'Host detail with open findings and available updates (each with availableSince)', security: bearer, parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'Host' }, '404': { description: 'Unknown host', ...json(error) } } } },
    '/api/v1/hosts/{name}/packages': { get: { summary: 'Installed packages of a host', security: bearer, parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'Packages' } } } },
    '/api/v1/findings': {
      get: {
        summary: 'Findings (open by default)',
        security: bearer,
        parameters: ['host', 'advisory', 'severity', 'state', 'limit'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
        responses: { '200': { description: 'Findings' }, ...errors },
      },
    },
    '/api/v1/advisories/{id}': { get: { summary: 'An advisory (id or CVE) and who it affects, by bucket and owner', security: bearer, parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'Advisory and impact' }, '404': { description: 'Unknown', ...json(error) } } } },
    '/api/v1/advisories/sync': { post: { summary: 'Sync advisories now (operator)', security: bearer, responses: { '200': { description: 'Import report' }, ...errors } } },
    '/api/v1/tokens': { post: { summary: 'Create an API token (admin)', security: bearer, responses: { '201': { description: 'Token, shown once' }, ...errors } } },
    '/api/v1/enrollment-tokens': { post: { summary: 'Create an enrollment token (admin)', security: bearer, responses: { '201': { description: 'Token, shown once' }, ...errors } } },
    '/metrics': { get: { summary: 'Prometheus metrics (fleet numbers by bucket and team; server health)', responses: { '200': { description: 'text/plain exposition format' } } } },
    '/healthz': { get: { summary: 'Liveness and database reachability', responses: { '200': { description: 'ok' } } } },
  },
} as const;
