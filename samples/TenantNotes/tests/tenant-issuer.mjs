// A real OIDC provider (npm oidc-provider) for the TenantNotes end-to-end tests, on 127.0.0.1.
// Usage: node tenant-issuer.mjs <port> <directory with node_modules/oidc-provider and jose>
// - client_credentials only; each client belongs to one tenant, which every access token it gets carries as the
//   `tenant` claim; the RFC 8707 resource is the audience; scopes notes:read notes:write; RS256 JWTs.
// - Its signing key is made at start and lives only in this process.
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const port = Number(process.argv[2]);
const require = createRequire(path.join(path.resolve(process.argv[3]), 'package.json'));
const load = async (name) => import(pathToFileURL(require.resolve(name)).href);
const { default: Provider } = await load('oidc-provider');
const { generateKeyPair, exportJWK } = await load('jose');

// client id (= the token's sub) → tenant. "stranger" has a served tenant but no account in the service's directory.
const tenants = { 'acme-notes': 'acme', 'globex-notes': 'globex', 'initech-notes': 'initech', 'stranger': 'acme' };
const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const key = { ...(await exportJWK(privateKey)), kid: 'tenant-notes-1', alg: 'RS256', use: 'sig' };
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: Object.keys(tenants).map((id) => ({
    client_id: id,
    client_secret: `${id}-secret`,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  jwks: { keys: [key] },
  scopes: ['notes:read', 'notes:write'],
  extraTokenClaims: (ctx, token) => ({ tenant: tenants[token.clientId] }),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => ({
        scope: 'notes:read notes:write',
        audience: resource,
        accessTokenTTL: 600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});

http.createServer(provider.callback()).listen(port, '127.0.0.1', () => console.log(`listening ${issuer}`));
process.on('SIGTERM', () => process.exit(0));
