namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Returned by <c>AddMcpAuth</c>: chain adapter registrations on it (<c>.AddOidcProvider()</c>, …).</summary>
/// <param name="services">The service collection being configured.</param>
public sealed class McpAuthBuilder(IServiceCollection services)
{
    /// <summary>The service collection being configured.</summary>
    public IServiceCollection Services { get; } = services ?? throw new ArgumentNullException(nameof(services));
}
