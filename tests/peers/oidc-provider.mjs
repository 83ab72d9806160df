// A real OIDC provider (npm oidc-provider) for McpAuth's tests, on 127.0.0.1.
// Usage: node oidc-provider.mjs <port> <private-jwks.json>
// - Issues JWT access tokens by client_credentials with an RFC 8707 resource as audience (RS256; ES256 for resources
//   whose path contains "/es256/"; opaque tokens, checked by RFC 7662 introspection, for resources whose path contains
//   "/opaque/"). Introspection (/token/introspection) is open to the resource server's client, mcp-server.
// - Registers an RFC 8693 token-exchange grant (the STS) that verifies the subject token with this issuer's keys.
// - /__control/* lets tests count requests, rotate keys, switch to RFC 8414-only metadata and break the STS.
// - /__control/exchange-clients (POST) adds token-exchange clients (e.g. client_secret_post, private_key_jwt with the
//   client's public JWKS: oidc-provider verifies those assertions itself, jti replay included), a federated credential
//   (a client whose client_assertion is a platform token, checked here: signature, iss, sub, aud, exp) and the actor
//   tokens' issuer (RFC 8693 actor_token: verified, then named in the issued token's act claim).
import http from 'node:http';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { createLocalJWKSet, jwtVerify, SignJWT, importJWK } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
let privateJwks = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const issuer = `http://127.0.0.1:${port}`;
const state = { counts: {}, exchanges: [], stsMode: 'ok', oidcDiscovery: true, federatedChecks: [] };
// Set by /__control/exchange-clients: { clients: [client metadata], federated: { clientId, issuer, subject, audience, jwks }, actor: { issuer, jwks } }.
let exchangeSetup = { clients: [], federated: null, actor: null };
// The federated client is registered as client_secret_post with this secret, which only this process knows: a request
// reaches oidc-provider as that client only after its platform assertion passed the checks below.
const federatedSecret = crypto.randomBytes(24).toString('hex');
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

function publicJwks(jwks) {
  return { keys: jwks.keys.map(({ d, p, q, dp, dq, qi, ...pub }) => pub) };
}

function build(jwks) {
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'mcp-client',
      client_secret: 'mcp-secret',
      grant_types: ['client_credentials', TOKEN_EXCHANGE],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    }, {
      // The resource server (McpAuth) introspecting opaque tokens.
      client_id: 'mcp-server',
      client_secret: 'server-secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    ...exchangeSetup.clients,
    ...(exchangeSetup.federated ? [{
      client_id: exchangeSetup.federated.clientId,
      client_secret: federatedSecret,
      grant_types: [TOKEN_EXCHANGE],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
    }] : [])],
    jwks,
    scopes: ['openid', 'read', 'write', 'mcp:admin', 'k8s'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => ({
          scope: 'read write mcp:admin k8s',
          audience: resource,
          accessTokenTTL: 3600,
          accessTokenFormat: resource.includes('/opaque/') ? 'opaque' : 'jwt',
          jwt: { sign: { alg: resource.includes('/es256/') ? 'ES256' : 'RS256' } },
        }),
      },
    },
  });
  const verifyKeys = createLocalJWKSet(publicJwks(jwks));
  provider.registerGrantType(TOKEN_EXCHANGE, async (ctx) => {
    const p = ctx.oidc.params;
    const body = ctx.oidc.body || {};
    state.exchanges.push({
      actor_token: p.actor_token,
      actor_token_type: p.actor_token_type,
      client_auth_method: ctx.get('x-mcpauth-federated') === federatedSecret ? 'federated_assertion' : ctx.oidc.client.clientAuthMethod,
      client_assertion: body.client_assertion,
      client_assertion_type: body.client_assertion_type,
      form_keys: Object.keys(body).sort(),
      grant_type: TOKEN_EXCHANGE,
      subject_token: p.subject_token,
      subject_token_type: p.subject_token_type,
      requested_token_type: p.requested_token_type,
      audience: p.audience,
      scope: p.scope,
      authorization: ctx.get('authorization'),
      client_id: ctx.oidc.client.clientId,
    });
    if (state.stsMode === 'fail500') {
      ctx.status = 500;
      ctx.body = { error: 'server_error' };
      return;
    }
    if (state.stsMode === 'hang') {
      await new Promise((r) => setTimeout(r, 30000));
    }
    let subject;
    try {
      ({ payload: subject } = await jwtVerify(p.subject_token, verifyKeys, { issuer }));
    } catch {
      ctx.status = 400;
      ctx.body = { error: 'invalid_grant', error_description: 'subject token is invalid' };
      return;
    }
    let act = { sub: subject.sub };
    if (p.actor_token !== undefined) {
      // RFC 8693 §2.1: actor_token_type is required with actor_token; the actor is verified, then named in act, with the
      // subject token's own act nested inside it (a delegation chain).
      if (p.actor_token_type !== 'urn:ietf:params:oauth:token-type:jwt' || !exchangeSetup.actor) {
        ctx.status = 400;
        ctx.body = { error: 'invalid_request', error_description: 'actor_token_type must be urn:ietf:params:oauth:token-type:jwt' };
        return;
      }
      try {
        const { payload: actor } = await jwtVerify(p.actor_token, createLocalJWKSet(exchangeSetup.actor.jwks), { issuer: exchangeSetup.actor.issuer, requiredClaims: ['exp', 'sub'] });
        act = { sub: actor.sub, iss: actor.iss };
        if (subject.act) act.act = subject.act;
      } catch {
        ctx.status = 400;
        ctx.body = { error: 'invalid_grant', error_description: 'actor token is invalid' };
        return;
      }
    }
    let accessToken;
    if (state.stsMode === 'opaque') {
      accessToken = `opaque-${state.exchanges.length}-${subject.sub}`;
    } else {
      const rsa = jwks.keys.find((k) => k.kty === 'RSA');
      accessToken = await new SignJWT({ scope: p.scope || '', act })
        .setProtectedHeader({ alg: 'RS256', kid: rsa.kid, typ: 'at+jwt' })
        .setIssuer(issuer).setSubject(subject.sub).setAudience(p.audience)
        .setIssuedAt().setExpirationTime('1h').setJti(crypto.randomUUID())
        .sign(await importJWK(rsa, 'RS256'));
    }
    ctx.body = {
      access_token: accessToken,
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      token_type: 'Bearer',
      expires_in: 3600,
    };
  }, new Set(['subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'scope', 'actor_token', 'actor_token_type']));
  return provider;
}

let provider = build(privateJwks);

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname.startsWith('/__control/')) {
    const what = url.pathname.slice('/__control/'.length);
    if (what === 'stats') return json(res, 200, state);
    if (what === 'reset') { state.counts = {}; state.exchanges = []; state.federatedChecks = []; return json(res, 200, {}); }
    if (what === 'sts') { state.stsMode = url.searchParams.get('mode'); return json(res, 200, {}); }
    if (what === 'oidc-discovery') { state.oidcDiscovery = url.searchParams.get('enabled') === 'true'; return json(res, 200, {}); }
    if (what === 'exchange-clients') {
      exchangeSetup = { clients: [], federated: null, actor: null, ...JSON.parse(await readBody(req)) };
      provider = build(privateJwks);
      return json(res, 200, {});
    }
    if (what === 'rotate') {
      privateJwks = JSON.parse(await readBody(req));
      provider = build(privateJwks);
      return json(res, 200, {});
    }
    return json(res, 404, {});
  }
  state.counts[url.pathname] = (state.counts[url.pathname] || 0) + 1;
  if (url.pathname === '/.well-known/openid-configuration' && !state.oidcDiscovery && !req.headers['x-internal']) {
    return json(res, 404, { error: 'not_found' });
  }
  if (url.pathname === '/.well-known/oauth-authorization-server') {
    // RFC 8414 metadata: the same document oidc-provider publishes for discovery.
    const inner = await fetch(`${issuer}/.well-known/openid-configuration`, { headers: { 'x-internal': '1' } }).catch(() => null);
    if (!inner) return json(res, 502, {});
    const doc = await inner.json();
    return json(res, 200, doc);
  }
  if (url.pathname === '/.well-known/openid-configuration' && req.headers['x-internal']) {
    state.counts[url.pathname] -= 1;
  }
  delete req.headers['x-mcpauth-federated'];
  if (exchangeSetup.federated && url.pathname === '/token' && req.method === 'POST') {
    // Read the form here (oidc-provider then uses req.body) to check a federated client assertion.
    const form = new URLSearchParams(await readBody(req));
    if (form.get('client_id') === exchangeSetup.federated.clientId && form.has('client_assertion')) {
      const check = await checkFederated(form.get('client_assertion_type'), form.get('client_assertion'));
      state.federatedChecks.push(check);
      if (!check.ok) return json(res, 401, { error: 'invalid_client', error_description: 'client authentication failed' });
      form.delete('client_assertion');
      form.delete('client_assertion_type');
      form.set('client_secret', federatedSecret);
      req.headers['x-mcpauth-federated'] = federatedSecret;
    }
    req.body = form.toString();
  }
  provider.callback()(req, res);
});

// Workload identity federation as token services do it (Entra's federated credentials, Keycloak's federated JWT): the
// assertion is the platform's token for the workload, trusted for one client by issuer, subject and audience. It is
// reused until the platform rotates it, so its jti is not single-use; it must not be expired.
async function checkFederated(type, assertion) {
  const f = exchangeSetup.federated;
  if (type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return { ok: false, reason: 'client_assertion_type' };
  try {
    const { payload } = await jwtVerify(assertion, createLocalJWKSet(f.jwks), { issuer: f.issuer, subject: f.subject, audience: f.audience, requiredClaims: ['exp'] });
    return { ok: true, sub: payload.sub, exp: payload.exp, jti: payload.jti ?? null };
  } catch (e) {
    return { ok: false, reason: e.code || 'invalid' };
  }
}

server.listen(port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
process.on('SIGTERM', () => process.exit(0));
