// The official MCP TypeScript SDK client doing the whole OAuth flow against the host's --demo authorization server,
// run by tests/Host.Tests/Demo. The only code here that the SDK does not do is the user's part: following the
// authorization URL the SDK hands to redirectToAuthorization (the demo runs with --demo-auto-approve, so that answers
// with the redirect to our redirect_uri at once) and giving the code back with finishAuth.
//
// Usage: MCP_URL=http://127.0.0.1:PORT/mcp [MCP_CLIENT_METADATA_URL=https://…] node ts-oauth-client.mjs
// Prints one JSON line: every HTTP exchange in order (method, URL, status, the headers and form fields that matter),
// whoami's result, and admin-action's result after the step-up.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

const url = new URL(process.env.MCP_URL);
const metadataUrl = process.env.MCP_CLIENT_METADATA_URL || undefined;
const redirectUrl = 'http://127.0.0.1:33418/callback'; // never listened on: the test reads the redirect itself
const exchanges = [];

// Records what each request and answer say, without tokens or secrets.
async function recordingFetch(input, init) {
  const request = new Request(input, init);
  const entry = { method: request.method, url: request.url };
  const body = init?.body;
  if (body instanceof URLSearchParams || (typeof body === 'string' && request.headers.get('content-type')?.includes('x-www-form-urlencoded'))) {
    const form = new URLSearchParams(body.toString());
    entry.form = Object.fromEntries([...form.keys()].map((k) => [k, ['code', 'code_verifier', 'refresh_token', 'client_secret'].includes(k) ? '<present>' : form.get(k)]));
  } else if (typeof body === 'string' && request.headers.get('content-type')?.includes('application/json')) {
    const json = JSON.parse(body);
    entry.json = json.method ? { method: json.method, name: json.params?.name } : json;
  }
  entry.authorization = request.headers.get('authorization') ? 'Bearer <token>' : null;
  const response = await fetch(input, init);
  entry.status = response.status;
  entry.wwwAuthenticate = response.headers.get('www-authenticate');
  if (response.headers.get('content-type')?.includes('application/json') && !request.url.endsWith(url.pathname)) {
    const json = await response.clone().json().catch(() => null);
    if (json) {
      entry.response = Object.fromEntries(Object.entries(json).map(([k, v]) => [k, ['access_token', 'refresh_token', 'id_token'].includes(k) ? '<present>' : v]));
    }
  }
  exchanges.push(entry);
  return response;
}

class MemoryProvider {
  constructor() {
    this.pending = null;
    this.saved = [];
  }
  get redirectUrl() { return redirectUrl; }
  get clientMetadataUrl() { return metadataUrl; }
  get clientMetadata() {
    return {
      client_name: 'McpAuth TypeScript SDK test',
      redirect_uris: [redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() { return 'ts-state-' + Math.random().toString(36).slice(2); }
  clientInformation() { return this.client; }
  saveClientInformation(info) { this.client = info; }
  tokens() { return this.current; }
  saveTokens(tokens) {
    this.current = tokens;
    this.saved.push({ scope: tokens.scope ?? null, hasRefreshToken: !!tokens.refresh_token, claims: claimsOf(tokens.access_token) });
  }
  redirectToAuthorization(authorizationUrl) { this.pending = authorizationUrl; }
  saveCodeVerifier(verifier) { this.verifier = verifier; }
  codeVerifier() { return this.verifier; }
}

function claimsOf(jwt) {
  const [header, payload] = jwt.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
  return { typ: header.typ, alg: header.alg, iss: payload.iss, aud: payload.aud, sub: payload.sub, scope: payload.scope, client_id: payload.client_id };
}

// The user's part: open the authorization URL (consent is automatic here) and hand the code to the SDK.
async function authorize(provider, transport) {
  const authorizationUrl = provider.pending;
  provider.pending = null;
  const response = await fetch(authorizationUrl, { redirect: 'manual' });
  const location = response.headers.get('location');
  exchanges.push({
    method: 'GET', url: authorizationUrl.href, status: response.status, user: true,
    query: Object.fromEntries(authorizationUrl.searchParams),
    location: location?.split('?')[0] ?? null,
  });
  if (response.status !== 302 || !location) throw new Error(`authorization answered ${response.status}: ${await response.text()}`);
  const callback = new URL(location);
  exchanges[exchanges.length - 1].callback = { code: callback.searchParams.has('code'), state: callback.searchParams.get('state') === authorizationUrl.searchParams.get('state'), iss: callback.searchParams.get('iss') };
  await transport.finishAuth(callback.searchParams.get('code'));
}

const out = { exchanges };
const provider = new MemoryProvider();
let transport = new StreamableHTTPClientTransport(url, { authProvider: provider, fetch: recordingFetch });
let client = new Client({ name: 'mcpauth-ts-oauth-test', version: '1.0.0' });
try {
  await client.connect(transport);
  throw new Error('connected without authorization');
} catch (error) {
  if (!(error instanceof UnauthorizedError) || !provider.pending) throw error;
}
await authorize(provider, transport);
transport = new StreamableHTTPClientTransport(url, { authProvider: provider, fetch: recordingFetch });
client = new Client({ name: 'mcpauth-ts-oauth-test', version: '1.0.0' });
await client.connect(transport);
out.tools = (await client.listTools()).tools.map((t) => t.name);
out.whoami = JSON.parse((await client.callTool({ name: 'whoami', arguments: {} })).content[0].text);
out.stepUpStartsAt = exchanges.length;
try {
  await client.callTool({ name: 'admin-action', arguments: {} });
  throw new Error('admin-action ran without the admin scope');
} catch (error) {
  if (!(error instanceof UnauthorizedError) || !provider.pending) throw error;
}
await authorize(provider, transport);
out.admin = JSON.parse((await client.callTool({ name: 'admin-action', arguments: {} })).content[0].text);
out.tokens = provider.saved;
out.clientId = provider.client?.client_id ?? null;
await client.close();
console.log(JSON.stringify(out));
