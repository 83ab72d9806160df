using McpAuth.Caching;
using McpAuth.OpenIdConnect.Exchange;
using McpAuth.Ports;
using Microsoft.Extensions.Options;

namespace McpAuth.OpenIdConnect;

/// <summary>
/// Caching decorator of <see cref="ITokenExchangeClient"/>: an exchanged token is reused until
/// <see cref="TokenExchangeOptions.ExchangeCacheMargin"/> before the earlier of its expiry and the subject token's;
/// keyed by an HMAC of the subject token and everything else that changes the result: audience, scopes, strategy, client
/// id and the actor token's source (never the raw token); concurrent identical exchanges run once; refusals and failures
/// are not cached. With an <see cref="ISharedCache"/> registered, an exchange one replica made
/// is reused by the others.
/// </summary>
public sealed class CachingTokenExchangeClient(
    ITokenExchangeClient inner, IOptions<McpAuthOptions> mcpAuth, IOptions<TokenExchangeOptions> options, CacheKeys keys, TimeProvider time,
    ISharedCache? shared = null)
    : ITokenExchangeClient
{
    private const string Purpose = "sts-v1";

    private readonly SecretKeyedCache<TokenExchangeResult> _cache = new(options.Value.ExchangeCacheMaxEntries, time);
    private readonly string _audience = mcpAuth.Value.StsAudience ?? string.Empty;
    private readonly string _scopes = string.Join(' ', options.Value.StsScopes);
    private readonly string _strategy = options.Value.StsStrategy;
    private readonly string _clientId = mcpAuth.Value.StsClientId ?? string.Empty;

    // The actor is the server's own workload identity: the file it is read from (rotations of the same identity keep the key).
    private readonly string _actor = string.IsNullOrEmpty(options.Value.StsActorTokenFile)
        ? string.Empty
        : options.Value.StsActorTokenType + " " + options.Value.StsActorTokenFile;
    private readonly TimeSpan _margin = options.Value.ExchangeCacheMargin;

    /// <summary>Exchanges actually sent to the STS through this decorator.</summary>
    public long Exchanges => _cache.FactoryCalls;

    /// <inheritdoc />
    public ValueTask<TokenExchangeResult> ExchangeAsync(string subjectToken, DateTimeOffset? subjectExpiresAt, CancellationToken cancellationToken)
    {
        var key = keys.OfParts(subjectToken, _audience, _scopes, _strategy, _clientId, _actor);
        return _cache.GetOrCreateAsync(key, () => ExchangeOrShareAsync(key, subjectToken, subjectExpiresAt), r => Lifetime(r, subjectExpiresAt), cancellationToken);
    }

    private async Task<TokenExchangeResult> ExchangeOrShareAsync(CacheKey key, string subjectToken, DateTimeOffset? subjectExpiresAt)
    {
        if (shared is not null && await shared.GetAsync(Purpose, key, CancellationToken.None).ConfigureAwait(false) is { } stored
            && SharedForm.Read(stored.Value) is { } reused && Lifetime(reused, subjectExpiresAt) > time.GetUtcNow())
        {
            return reused;
        }

        var result = await inner.ExchangeAsync(subjectToken, subjectExpiresAt, CancellationToken.None).ConfigureAwait(false);
        if (shared is not null && Lifetime(result, subjectExpiresAt) is { } until)
        {
            await shared.SetAsync(Purpose, key, SharedForm.Write(result), until, CancellationToken.None).ConfigureAwait(false);
        }

        return result;
    }

    private DateTimeOffset? Lifetime(TokenExchangeResult result, DateTimeOffset? subjectExpiresAt) =>
        result.Status == PortStatus.Accepted && result.ExpiresAt is { } exp ? Min(exp, subjectExpiresAt) - _margin : null;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset? b) => b is { } v && v < a ? v : a;

    // What a replica shares: the exchanged token and its expiry (sealed by the shared cache); its actors are read again from it.
    private static class SharedForm
    {
        public static byte[] Write(TokenExchangeResult result) =>
            System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Shared(result.AccessToken!, result.ExpiresAt!.Value.ToUnixTimeMilliseconds()));

        public static TokenExchangeResult? Read(byte[] bytes)
        {
            try
            {
                return System.Text.Json.JsonSerializer.Deserialize<Shared>(bytes) is { T: { Length: > 0 } token, E: > 0 } s
                    ? TokenExchangeResult.Exchanged(token, DateTimeOffset.FromUnixTimeMilliseconds(s.E), ActorChain.Read(token))
                    : null;
            }
            catch (System.Text.Json.JsonException)
            {
                return null;
            }
        }

        private sealed record Shared(string T, long E);
    }
}
