using System.Collections.Frozen;
using McpAuth.Tokens;
using Microsoft.Extensions.Options;

namespace McpAuth;

/// <summary>
/// The trusted issuers as the stages see them. With <see cref="McpAuthOptions.Issuers"/> set, a token is routed by its
/// (not yet verified) <c>iss</c> to exactly one of them, or to none (refused before any fetch); the issuer stage then
/// verifies it with that issuer's keys only, so a token claiming another issuer's <c>iss</c> fails that issuer's
/// signature check. Without the list, <see cref="McpAuthOptions.AuthorizationUrl"/> and <see cref="McpAuthOptions.Audience"/>
/// are the one issuer every token is routed to (its <c>iss</c> is checked by the issuer stage, as before).
/// </summary>
public sealed class IssuerDirectory
{
    private readonly FrozenDictionary<string, Issuer> _byUrl;
    private readonly Issuer? _single;

    /// <summary>Builds the directory from the pipeline's settings.</summary>
    public IssuerDirectory(IOptions<McpAuthOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        string[] defaultAudiences = o.Audience is { Length: > 0 } a ? [a] : [];
        if (o.Issuers.Count == 0)
        {
            _single = o.AuthorizationUrl is { Length: > 0 } url ? new Issuer(url, defaultAudiences, [], null, null) : null;
            All = _single is null ? [] : [_single];
        }
        else
        {
            All = o.Issuers.Select(i => new Issuer(
                i.Url,
                i.Audiences.Where(s => !string.IsNullOrWhiteSpace(s)).ToArray() is { Length: > 0 } own ? own : defaultAudiences,
                i.RequiredScopes.Where(s => !string.IsNullOrWhiteSpace(s)).Distinct(StringComparer.Ordinal).ToArray(),
                i.ClaimMappings.Username.Claim is { Length: > 0 } claim ? claim : null,
                i.ClaimMappings.Username.Prefix is { Length: > 0 } prefix ? prefix : null)).ToArray();
        }

        _byUrl = All.GroupBy(i => i.Url, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
    }

    /// <summary>The issuers, in configuration order (the first is the one token exchange and introspection use).</summary>
    public IReadOnlyList<Issuer> All { get; }

    /// <summary>True when tokens are routed by their <c>iss</c> (<see cref="McpAuthOptions.Issuers"/> is set).</summary>
    public bool RoutesByIssuer => _single is null && All.Count > 0;

    /// <summary>The issuer <paramref name="token"/> belongs to; null when its <c>iss</c> names none of them.</summary>
    public Issuer? Route(ParsedToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (_single is not null)
        {
            return _single;
        }

        if (token.Issuer is { } iss)
        {
            return _byUrl.TryGetValue(iss, out var issuer) ? issuer : null;
        }

        // An introspection answer without iss comes from the issuer that was asked: the first (the one introspection uses).
        return token.IsIntrospected && All.Count > 0 ? All[0] : null;
    }

    /// <summary>One trusted issuer, as the stages use it.</summary>
    /// <param name="Url">The issuer identifier.</param>
    /// <param name="Audiences">Accepted audiences (any one); empty: none expected.</param>
    /// <param name="RequiredScopes">Scopes required on top of the server-wide ones.</param>
    /// <param name="UsernameClaim">The claim the principal's subject is read from; null: <c>sub</c>.</param>
    /// <param name="UsernamePrefix">Put before the subject; null: none.</param>
    public sealed record Issuer(string Url, IReadOnlyList<string> Audiences, IReadOnlyList<string> RequiredScopes, string? UsernameClaim, string? UsernamePrefix)
    {
        /// <summary>The principal's subject for <paramref name="token"/> under this issuer's claim mapping.</summary>
        public string? SubjectOf(ParsedToken token)
        {
            ArgumentNullException.ThrowIfNull(token);
            var value = UsernameClaim is null
                ? token.Subject
                : token.Claims.FirstOrDefault(c => string.Equals(c.Type, UsernameClaim, StringComparison.Ordinal))?.Value;
            return value is { Length: > 0 } ? UsernamePrefix + value : null; // an empty claim is no subject, prefixed or not
        }
    }
}
