using McpAuth.Ports;
using Microsoft.Extensions.Options;

namespace McpAuth.OpenIdConnect;

/// <summary>
/// Readiness of the issuer: unhealthy while no keys were ever fetched, or while the keys are older than
/// <see cref="OidcProviderOptions.MetadataMaxAge"/> and cannot be refreshed. Asking refreshes stale keys (bounded by
/// <see cref="OidcProviderOptions.IssuerTimeout"/>).
/// </summary>
internal sealed class IssuerHealthProbe(
    IssuerMetadataStore store, IOptions<McpAuthOptions> mcpAuth, IOptions<OidcProviderOptions> options, TimeProvider time, IOidcTokenValidator? validator = null)
    : IPeerHealthProbe
{
    public string Name => "issuer";

    public async ValueTask<PeerHealth> CheckAsync(CancellationToken cancellationToken)
    {
        if (!mcpAuth.Value.HasIssuer)
        {
            return PeerHealth.Healthy("No issuer is configured.");
        }

        if (validator is MultiIssuerTokenValidator multi)
        {
            // Several issuers: each is checked on its own; one down fails only its own tokens, so readiness is degraded
            // until none is usable.
            var checks = await Task.WhenAll(multi.Stores.Select(async s => (Url: s.Key, Health: await CheckStoreAsync(s.Value, cancellationToken).ConfigureAwait(false)))).ConfigureAwait(false);
            var down = checks.Where(c => c.Health.Status != PeerHealthStatus.Healthy).ToList();
            var text = string.Join("; ", checks.Select(c => $"{c.Url}: {c.Health.Description}"));
            return down.Count == 0 ? PeerHealth.Healthy(text)
                : down.Count == checks.Length ? PeerHealth.Unhealthy(text)
                : PeerHealth.Degraded(text);
        }

        return await CheckStoreAsync(store, cancellationToken).ConfigureAwait(false);
    }

    private async Task<PeerHealth> CheckStoreAsync(IssuerMetadataStore store, CancellationToken cancellationToken)
    {
        var metadata = await store.GetAsync(cancellationToken).ConfigureAwait(false);
        if (metadata is null)
        {
            return PeerHealth.Unhealthy("The issuer's metadata and keys could not be fetched.");
        }

        var now = time.GetUtcNow();
        if (now - metadata.FetchedAt > options.Value.MetadataMaxAge)
        {
            // Stale: requests keep using these keys while a refresh runs; readiness waits for that refresh (bounded).
            metadata = await store.RefreshKeysAsync(metadata, now, cancellationToken).ConfigureAwait(false) ?? metadata;
        }

        var age = time.GetUtcNow() - metadata.FetchedAt;
        return age > options.Value.MetadataMaxAge
            ? PeerHealth.Unhealthy($"The issuer's keys are {age.TotalMinutes:0} minutes old and cannot be refreshed.")
            : PeerHealth.Healthy($"{metadata.SigningKeys.Count} signing key(s), fetched {age.TotalSeconds:0} s ago.");
    }
}
