// DPoP proofs made by a real client library (npm jose), for McpAuth's tests.
// Usage:
//   node dpop-client.mjs key                         -> {"jkt": "...", "jwk": {private JWK}}
//   node dpop-client.mjs proof <jwk-json> <htm> <htu> <access-token|-> [nonce]   -> the proof (compact JWS; '-': no ath)
import { generateKeyPair, exportJWK, calculateJwkThumbprint, importJWK, SignJWT, base64url } from 'jose';
import crypto from 'node:crypto';

const [mode, ...args] = process.argv.slice(2);
if (mode === 'key') {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const { d, ...pub } = jwk;
  console.log(JSON.stringify({ jkt: await calculateJwkThumbprint(pub, 'sha256'), jwk }));
} else if (mode === 'proof') {
  const [jwkJson, htm, htu, accessToken, nonce] = args;
  const jwk = JSON.parse(jwkJson);
  const { d, ...pub } = jwk;
  const key = await importJWK(jwk, 'ES256');
  // "-": a proof for a token request (RFC 9449 §5), which has no access token to hash (no ath).
  const claims = { htm, htu, jti: crypto.randomUUID() };
  if (accessToken !== '-') claims.ath = base64url.encode(crypto.createHash('sha256').update(accessToken, 'ascii').digest());
  if (nonce) claims.nonce = nonce;
  const proof = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: pub })
    .setIssuedAt()
    .sign(key);
  console.log(proof);
} else {
  console.error('usage: dpop-client.mjs key | proof <jwk> <htm> <htu> <access-token> [nonce]');
  process.exit(2);
}
