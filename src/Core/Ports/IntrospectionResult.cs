using McpAuth.Tokens;

namespace McpAuth.Ports;

/// <summary>The answer of <see cref="ITokenIntrospector"/>.</summary>
/// <param name="Status">Accepted (active), Rejected (not active, or not an access token for this server) or Unavailable.</param>
/// <param name="Token">When active: the token with the claims of the answer (<see cref="ParsedToken.FromIntrospection"/>).</param>
/// <param name="Reason">For a refusal, a short reason safe to show to a client; for Unavailable, one for the log.</param>
public readonly record struct IntrospectionResult(PortStatus Status, ParsedToken? Token = null, string? Reason = null)
{
    /// <summary>The authorization server says the token is active; <paramref name="token"/> holds what it says.</summary>
    public static IntrospectionResult Active(ParsedToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return new(PortStatus.Accepted, token);
    }

    /// <summary>The token is not active (unknown, expired, revoked) or is not an access token this server takes.</summary>
    public static IntrospectionResult Inactive(string reason) => new(PortStatus.Rejected, null, reason);

    /// <summary>The authorization server could not be asked, or its answer could not be read.</summary>
    public static IntrospectionResult Unavailable(string reason) => new(PortStatus.Unavailable, null, reason);
}
