namespace McpAuth;

/// <summary>Why a request was refused. The ASP.NET Core adapter maps each code to an HTTP status and an RFC 6750 error.</summary>
public enum AuthenticationErrorCode
{
    /// <summary>The token is malformed, expired, forged, for another audience, or refused by a peer (401).</summary>
    InvalidToken,

    /// <summary>The token is valid but lacks a scope the operation needs (403).</summary>
    InsufficientScope,

    /// <summary>The request itself is wrong: an unknown cluster, or a body that cannot be decoded (400).</summary>
    InvalidRequest,

    /// <summary>A peer (issuer, STS, API server) failed or timed out: not the caller's fault (503).</summary>
    Unavailable,

    /// <summary>The request body is larger than the configured limit (413).</summary>
    RequestTooLarge,

    /// <summary>The request body arrived too slowly (408).</summary>
    RequestTimeout,

    /// <summary>The DPoP proof is missing, malformed, replayed, or not for this request or token (401, RFC 9449 <c>invalid_dpop_proof</c>).</summary>
    InvalidDpopProof,

    /// <summary>The DPoP proof must carry the server's current nonce (401, RFC 9449 <c>use_dpop_nonce</c>, with a <c>DPoP-Nonce</c> header).</summary>
    UseDpopNonce,
}
