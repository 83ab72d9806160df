namespace McpAuth.AspNetCore.Tests.FaultMatrix;

/// <summary>The settings every fault-matrix app runs with, and the time bounds derived from them.</summary>
public static class MatrixSettings
{
    /// <summary><c>IssuerTimeout</c>, <c>StsTimeout</c>, <c>TokenReviewTimeout</c> and <c>IntrospectionTimeout</c> (T).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    /// <summary><c>FailureBackoff</c> (default 2 s).</summary>
    public static readonly TimeSpan FailureBackoff = TimeSpan.FromMilliseconds(200);

    /// <summary><c>KeyRefreshInterval</c> (default 2 s).</summary>
    public static readonly TimeSpan KeyRefreshInterval = TimeSpan.FromMilliseconds(200);

    /// <summary><c>MetadataMaxAge</c> of the rows with cached keys (default 1 h, which the other rows keep).</summary>
    public static readonly TimeSpan CachedMetadataMaxAge = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a <see cref="Fault.Slow"/> peer waits before it answers: T / 2, well under T (0.7 s left the answer 0.3 s of slack, which a loaded 2-core machine sometimes used up).</summary>
    public static readonly TimeSpan SlowDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>When a hanging or stalled peer gives up by itself (answers, or closes the connection): 3 × T.</summary>
    public static readonly TimeSpan PeerGivesUpAfter = TimeSpan.FromSeconds(3);

    /// <summary>Slack on top of T for a bounded answer (scheduling on a loaded 2-core machine).</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromMilliseconds(750);

    /// <summary>The most an answer that must not wait for any timeout may take: T / 2.</summary>
    public static readonly TimeSpan Instant = TimeSpan.FromMilliseconds(500);

    /// <summary><c>RetryAfterSeconds</c> (the default).</summary>
    public const int RetryAfterSeconds = 5;

    /// <summary>The issuer adapter's limit for discovery and JWKS documents (<c>OidcProviderOptions.MaxDocumentBytes</c>).</summary>
    public const int IssuerDocumentLimit = 1024 * 1024;

    /// <summary>The STS adapter's limit (<c>StsTokenExchangeClient.MaxResponseBytes</c>, private).</summary>
    public const int StsResponseLimit = 64 * 1024;

    /// <summary>The introspection adapter's limit (<c>TokenIntrospectionClient.MaxResponseBytes</c>).</summary>
    public const int IntrospectionResponseLimit = McpAuth.OpenIdConnect.TokenIntrospectionClient.MaxResponseBytes;

    /// <summary>The size of a <see cref="Fault.Oversized"/> answer: past the adapter's limit (the API server has none, so 8 MiB).</summary>
    public static int OversizedBytes(PeerRole role) => role switch
    {
        PeerRole.Discovery or PeerRole.Jwks => IssuerDocumentLimit + (64 * 1024),
        PeerRole.Sts => StsResponseLimit + (16 * 1024),
        PeerRole.Introspection => IntrospectionResponseLimit + (16 * 1024),
        _ => 8 * 1024 * 1024,
    };

    /// <summary>The interval a <see cref="Bound"/> allows, and how the document writes it.</summary>
    public static (TimeSpan Min, TimeSpan Max, string Text) Interval(Bound bound) => bound switch
    {
        Bound.Instant => (TimeSpan.Zero, Instant, $"≤ {S(Instant)}"),
        // The peer's own delay is measured by a timer that may fire a few ms early against the test's stopwatch.
        Bound.Slow => (SlowDelay * 0.95, Timeout + Margin, $"{S(SlowDelay)} ≤ t ≤ T + {S(Margin)}"),
        Bound.OneTimeout => (Timeout * 0.9, Timeout + Margin, $"T ≤ t ≤ T + {S(Margin)}"),
        _ => throw new ArgumentOutOfRangeException(nameof(bound)),
    };

    public static string S(TimeSpan t) => t.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + " s";
}
