using System.Text;
using Microsoft.AspNetCore.Http;

namespace McpAuth.AspNetCore;

/// <summary>
/// The one place where an <see cref="AuthenticationOutcome"/> becomes an HTTP answer (RFC 6750 §3, MCP authorization,
/// RFC 9728 <c>resource_metadata</c>). The table is in ARCHITECTURE.md.
/// </summary>
internal sealed class ChallengeMapper(
    string realm, string? audience, IReadOnlyList<string> requiredScopes, int retryAfterSeconds,
    DpopMode dpop = DpopMode.Off, IReadOnlyCollection<string>? dpopAlgorithms = null, Func<string>? dpopNonce = null)
{
    private readonly string _algs = string.Join(' ', dpopAlgorithms ?? []);

    /// <summary>The refusal of a request whose Origin or Host is not allowed.</summary>
    public static Challenge ForbiddenOrigin(string reason) => new(StatusCodes.Status403Forbidden, null, "forbidden_origin", reason);

    /// <summary>Maps a refusal (or "no credentials") to its answer.</summary>
    /// <param name="outcome">The pipeline's outcome (NoCredentials or Failure).</param>
    /// <param name="resourceMetadataUrl">The absolute URL of the protected-resource metadata.</param>
    /// <param name="scheme">The scheme the request used: the error goes on that scheme's challenge.</param>
    public Challenge Map(AuthenticationOutcome outcome, string resourceMetadataUrl, Tokens.AuthorizationScheme scheme = Tokens.AuthorizationScheme.None)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Kind != AuthenticationOutcomeKind.Failure)
        {
            return new Challenge(401, Headers(resourceMetadataUrl, requiredScopes, null, null, scheme), "unauthorized", "A bearer token is required.", null, Nonce());
        }

        var error = outcome.Error!;
        return error.Code switch
        {
            AuthenticationErrorCode.InvalidToken => Refusal(401, "invalid_token", requiredScopes),
            AuthenticationErrorCode.InvalidDpopProof => Refusal(401, "invalid_dpop_proof", requiredScopes, Tokens.AuthorizationScheme.DPoP),
            AuthenticationErrorCode.UseDpopNonce => Refusal(401, "use_dpop_nonce", requiredScopes, Tokens.AuthorizationScheme.DPoP),
            AuthenticationErrorCode.InsufficientScope => Refusal(403, "insufficient_scope", error.RequiredScopes ?? requiredScopes),
            AuthenticationErrorCode.InvalidRequest => Refusal(400, "invalid_request", requiredScopes),
            AuthenticationErrorCode.RequestTooLarge => new Challenge(413, null, "request_too_large", error.Description),
            AuthenticationErrorCode.RequestTimeout => new Challenge(408, null, "request_timeout", error.Description),
            _ => new Challenge(503, null, "temporarily_unavailable", error.Description, retryAfterSeconds),
        };

        Challenge Refusal(int status, string code, IReadOnlyList<string> scopes, Tokens.AuthorizationScheme on = Tokens.AuthorizationScheme.None) =>
            new(status, Headers(resourceMetadataUrl, scopes, code, error.Description, on == Tokens.AuthorizationScheme.None ? scheme : on),
                code, error.Description, null, status == 401 ? Nonce() : null);
    }

    private string? Nonce() => dpop != DpopMode.Off ? dpopNonce?.Invoke() : null;

    // One challenge per scheme the server takes (RFC 9449 §7.1); the error goes on the scheme the request used (on DPoP's
    // when the server takes DPoP only).
    private string[] Headers(string resourceMetadataUrl, IReadOnlyList<string> scopes, string? error, string? description, Tokens.AuthorizationScheme scheme)
    {
        var errorOnDpop = dpop == DpopMode.Required || (dpop != DpopMode.Off && scheme == Tokens.AuthorizationScheme.DPoP);
        var headers = new List<string>(2);
        if (dpop != DpopMode.Required)
        {
            headers.Add(Header("Bearer", resourceMetadataUrl, scopes, errorOnDpop ? null : error, description, null));
        }

        if (dpop != DpopMode.Off)
        {
            headers.Add(Header("DPoP", resourceMetadataUrl, scopes, errorOnDpop ? error : null, description, _algs));
        }

        return [.. headers];
    }

    private string Header(string scheme, string resourceMetadataUrl, IReadOnlyList<string> scopes, string? error, string? description, string? algs)
    {
        var header = new StringBuilder(scheme).Append(" realm=\"").Append(Sanitize(realm)).Append('"');
        if (!string.IsNullOrEmpty(audience))
        {
            header.Append(", audience=\"").Append(Sanitize(audience)).Append('"');
        }

        header.Append(", resource_metadata=\"").Append(Sanitize(resourceMetadataUrl)).Append('"');
        if (scopes.Count > 0)
        {
            header.Append(", scope=\"").Append(Sanitize(string.Join(' ', scopes))).Append('"');
        }

        if (algs is { Length: > 0 })
        {
            header.Append(", algs=\"").Append(Sanitize(algs)).Append('"');
        }

        if (error is not null)
        {
            header.Append(", error=\"").Append(error).Append('"');
            header.Append(", error_description=\"").Append(Sanitize(description ?? string.Empty)).Append('"');
        }

        return header.ToString();
    }

    /// <summary>
    /// A quoted-string value safe for a header (RFC 6750 §3: %x20-21 / %x23-5B / %x5D-7E): no quote, backslash,
    /// control or non-ASCII character, at most 200 characters.
    /// </summary>
    public static string Sanitize(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var clean = new StringBuilder(Math.Min(value.Length, 200));
        foreach (var c in value)
        {
            if (clean.Length == 200)
            {
                break;
            }

            clean.Append(c is >= ' ' and <= '~' and not '"' and not '\\' ? c : '\'');
        }

        return clean.ToString();
    }
}
