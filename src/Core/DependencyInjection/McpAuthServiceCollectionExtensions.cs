using McpAuth;
using McpAuth.Behaviors;
using McpAuth.Caching;
using McpAuth.Ports;
using MediatR;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the McpAuth pipeline.</summary>
public static class McpAuthServiceCollectionExtensions
{
    /// <summary>
    /// The stages, outermost first. This is the one place the order is fixed; MediatR 5 nests behaviours in
    /// registration order (first registered = outermost). Change it with the <see cref="McpAuthBuilder"/> methods.
    /// </summary>
    public static IReadOnlyList<Type> DefaultStages { get; } =
    [
        // Outermost so that any fault in any stage or adapter becomes Unavailable (fail closed), never a 500.
        typeof(ExceptionGuardBehavior),
        // A repeated token costs one HMAC: found here, it is neither parsed nor verified again below.
        typeof(ValidatedTokenCacheBehavior),
        // Everything below needs the parsed token; no header → NoCredentials without further work.
        typeof(ParseBearerTokenBehavior),
        // An opaque token (only when introspection is configured) is asked about at the issuer (RFC 7662); its answer then
        // goes through the same offline checks as a JWT's claims. A JWT passes through untouched.
        typeof(IntrospectionBehavior),
        // Cheap, offline (no I/O, no crypto): expired / wrong-audience tokens stop before any network call.
        typeof(OfflineValidationBehavior),
        // Signature, issuer, audience at the issuer's keys: nothing unverified is sent to an STS or a cluster.
        typeof(OidcProviderValidationBehavior),
        // DPoP after the issuer check: the token's cnf.jkt is trusted, and no proof is checked for a forged token; before the
        // exchange, so a bound token is never exchanged without its proof.
        typeof(DpopBehavior),
        // Exchange only a verified token; the review below must see the exchanged (effective) token.
        typeof(TokenExchangeBehavior),
        // TokenReview of the effective token on each target cluster: the costliest authentication step, and the first
        // that reads the request body (for the targets), so no body is read for a token refused above.
        typeof(TokenReviewBehavior),
        // Authorization after authentication: a forged token gets 401, only a valid one can get 403.
        typeof(RequiredScopesBehavior),
        // Per-tool step-up scopes, after the server-wide ones so the 403 names every scope needed.
        typeof(ToolScopesBehavior),
    ];

    /// <summary>
    /// Adds the authentication pipeline: options (bound from the <c>McpAuth</c> configuration section when an
    /// <see cref="IConfiguration"/> is registered, then <paramref name="configure"/>), validated at start; MediatR 5
    /// without its DI package; the stages in <see cref="DefaultStages"/>; fail-closed default ports. Calling it again
    /// adds <paramref name="configure"/> and returns a builder for the same pipeline.
    /// </summary>
    public static McpAuthBuilder AddMcpAuth(this IServiceCollection services, Action<McpAuthOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddMcpAuthSettings<McpAuthOptions>().ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        if (services.Any(d => d.ServiceType == typeof(McpAuthMarker)))
        {
            return new McpAuthBuilder(services);
        }

        services.AddSingleton<McpAuthMarker>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<McpAuthOptions>, McpAuthOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<CacheKeys>();
        services.TryAddSingleton<IssuerDirectory>();
        services.TryAddSingleton<ValidatedTokenCache>();
        services.TryAddSingleton<McpAuth.Diagnostics.RefusalSummary>();
        services.TryAddSingleton<McpAuth.Dpop.DpopProofValidator>();
        services.TryAddSingleton<McpAuth.Dpop.DpopNonces>();
        services.TryAddSingleton<IDpopReplayCache, McpAuth.Dpop.InProcessDpopReplayCache>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, McpAuthStartupCheck>());

        // MediatR 5.1.0 (ADR-001): ServiceFactory is IServiceProvider.GetService of the resolving scope.
        services.TryAddTransient<ServiceFactory>(sp => sp.GetService!);
        services.TryAddTransient<IMediator, Mediator>();
        services.TryAddSingleton<IRequestHandler<AuthenticateRequest, AuthenticationOutcome>, AuthenticateRequestHandler>();

        // Ports: fail-closed defaults; adapters (or the host) replace them.
        services.TryAddSingleton<IOidcTokenValidator, NotConfiguredOidcTokenValidator>();
        services.TryAddSingleton<ITokenIntrospector, NotConfiguredTokenIntrospector>();
        services.TryAddSingleton<ITokenExchangeClient, NotConfiguredTokenExchangeClient>();
        services.TryAddSingleton<ITokenReviewClient, NotConfiguredTokenReviewClient>();

        foreach (var stage in DefaultStages)
        {
            services.AddSingleton(typeof(IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>), stage);
        }

        return new McpAuthBuilder(services);
    }

    /// <summary>
    /// Registers <typeparamref name="TOptions"/> bound from the <c>McpAuth</c> configuration section when an
    /// <see cref="IConfiguration"/> is registered (every McpAuth setting lives in that one flat section). Idempotent.
    /// </summary>
    public static OptionsBuilder<TOptions> AddMcpAuthSettings<TOptions>(this IServiceCollection services, string? name = null)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<TOptions>, BindMcpAuthSection<TOptions>>());
        return services.AddOptions<TOptions>(name);
    }

    private sealed class McpAuthMarker;

    // Binds every name of TOptions (a scheme's options are named) from the one McpAuth section.
    private sealed class BindMcpAuthSection<TOptions>(IConfiguration? configuration = null) : IConfigureNamedOptions<TOptions>
        where TOptions : class
    {
        public void Configure(TOptions options) => Configure(Options.Options.DefaultName, options);

        public void Configure(string? name, TOptions options) => configuration?.GetSection(McpAuthOptions.SectionName).Bind(options);
    }
}
