using System.Text;
using Microsoft.AspNetCore.Http;

namespace McpAuth.AspNetCore;

/// <summary>
/// The one place where an <see cref="AuthenticationOutcome"/> becomes an HTTP answer (RFC 6750 §3, MCP authorization,
/// RFC 9728 <c>resource_metadata</c>). The table is in ARCHITECTURE.md.
/// </summary>
internal sealed class ChallengeMapper(string realm, string? audience, IReadOnlyList<string> requiredScopes, int retryAfterSeconds)
{
    /// <summary>The refusal of a request whose Origin or Host is not allowed.</summary>
    public static Challenge ForbiddenOrigin(string reason) => new(StatusCodes.Status403Forbidden, null, "forbidden_origin", reason);

    /// <summary>Maps a refusal (or "no credentials") to its answer.</summary>
    /// <param name="outcome">The pipeline's outcome (NoCredentials or Failure).</param>
    /// <param name="resourceMetadataUrl">The absolute URL of the protected-resource metadata.</param>
    public Challenge Map(AuthenticationOutcome outcome, string resourceMetadataUrl)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Kind != AuthenticationOutcomeKind.Failure)
        {
            return new Challenge(401, Header(resourceMetadataUrl, requiredScopes, null, null), "unauthorized", "A bearer token is required.");
        }

        var error = outcome.Error!;
        return error.Code switch
        {
            AuthenticationErrorCode.InvalidToken => new Challenge(401,
                Header(resourceMetadataUrl, requiredScopes, "invalid_token", error.Description), "invalid_token", error.Description),
            AuthenticationErrorCode.InsufficientScope => new Challenge(403,
                Header(resourceMetadataUrl, error.RequiredScopes ?? requiredScopes, "insufficient_scope", error.Description), "insufficient_scope", error.Description),
            AuthenticationErrorCode.InvalidRequest => new Challenge(400,
                Header(resourceMetadataUrl, requiredScopes, "invalid_request", error.Description), "invalid_request", error.Description),
            AuthenticationErrorCode.RequestTooLarge => new Challenge(413, null, "request_too_large", error.Description),
            AuthenticationErrorCode.RequestTimeout => new Challenge(408, null, "request_timeout", error.Description),
            _ => new Challenge(503, null, "temporarily_unavailable", error.Description, retryAfterSeconds),
        };
    }

    private string Header(string resourceMetadataUrl, IReadOnlyList<string> scopes, string? error, string? description)
    {
        var header = new StringBuilder("Bearer realm=\"").Append(Sanitize(realm)).Append('"');
        if (!string.IsNullOrEmpty(audience))
        {
            header.Append(", audience=\"").Append(Sanitize(audience)).Append('"');
        }

        header.Append(", resource_metadata=\"").Append(Sanitize(resourceMetadataUrl)).Append('"');
        if (scopes.Count > 0)
        {
            header.Append(", scope=\"").Append(Sanitize(string.Join(' ', scopes))).Append('"');
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
