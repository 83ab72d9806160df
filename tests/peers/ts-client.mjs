// The official MCP TypeScript SDK as a client of the McpAuth host, run by the host tests.
// Usage: MCP_URL=http://127.0.0.1:PORT/mcp MCP_TOKEN=... node ts-client.mjs
// 1. Without a token: expects 401, reads resource_metadata from WWW-Authenticate with the SDK, discovers the RFC 9728
//    protected-resource metadata and the authorization server's metadata with the SDK.
// 2. With the bearer token: connects (Streamable HTTP), lists tools, calls whoami. Prints one JSON line.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  extractWWWAuthenticateParams,
  discoverOAuthProtectedResourceMetadata,
  discoverAuthorizationServerMetadata,
} from '@modelcontextprotocol/sdk/client/auth.js';

const url = new URL(process.env.MCP_URL);
const token = process.env.MCP_TOKEN;
const out = {};

const unauthenticated = await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
  body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '1' } } }),
});
out.unauthenticatedStatus = unauthenticated.status;
const challenge = extractWWWAuthenticateParams(unauthenticated);
out.resourceMetadataUrl = challenge.resourceMetadataUrl?.href ?? null;
const prm = await discoverOAuthProtectedResourceMetadata(url, { resourceMetadataUrl: challenge.resourceMetadataUrl });
out.resource = prm.resource;
out.authorizationServers = prm.authorization_servers;
const asMetadata = await discoverAuthorizationServerMetadata(new URL(prm.authorization_servers[0]));
out.tokenEndpoint = asMetadata?.token_endpoint ?? null;

const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
const client = new Client({ name: 'mcpauth-ts-test', version: '1.0.0' });
await client.connect(transport);
out.tools = (await client.listTools()).tools.map((t) => t.name);
const result = await client.callTool({ name: 'whoami', arguments: {} });
out.whoami = JSON.parse(result.content[0].text);
await client.close();
console.log(JSON.stringify(out));
