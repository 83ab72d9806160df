using McpAuth.AspNetCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>McpAuth's health checks, for <c>AddHealthChecks()</c>.</summary>
public static class McpAuthHealthChecksBuilderExtensions
{
    /// <summary>The tag of the liveness check (map it at <c>/healthz</c>).</summary>
    public const string LiveTag = "live";

    /// <summary>The tag of the readiness check (map it at <c>/readyz</c>).</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Adds <c>mcpauth-live</c> (tag <see cref="LiveTag"/>: the process answers) and <c>mcpauth-ready</c> (tag
    /// <see cref="ReadyTag"/>: every peer the adapters registered a probe for — the issuer's keys, the API servers, a
    /// shared cache — is usable; unhealthy while the issuer's keys are past their max age and cannot be refreshed, or an
    /// API server does not answer; degraded while only a shared cache is down).
    /// </summary>
    public static IHealthChecksBuilder AddMcpAuthChecks(this IHealthChecksBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddCheck("mcpauth-live", () => HealthCheckResult.Healthy("McpAuth is running."), [LiveTag]);
        builder.AddCheck<McpAuthReadinessCheck>("mcpauth-ready", tags: [ReadyTag]);
        return builder;
    }
}
