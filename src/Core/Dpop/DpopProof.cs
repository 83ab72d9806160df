namespace McpAuth.Dpop;

/// <summary>A DPoP proof that passed every check of RFC 9449 §4.3 that does not need state (replay and nonce are the stage's).</summary>
/// <param name="Thumbprint">The RFC 7638 SHA-256 thumbprint of the proof's public key (base64url): the token's <c>cnf.jkt</c> must equal it.</param>
/// <param name="Jti">The proof's unique id.</param>
/// <param name="Nonce">The proof's <c>nonce</c>, when it has one.</param>
/// <param name="IssuedAt">The proof's <c>iat</c>.</param>
public sealed record DpopProof(string Thumbprint, string Jti, string? Nonce, DateTimeOffset IssuedAt);
