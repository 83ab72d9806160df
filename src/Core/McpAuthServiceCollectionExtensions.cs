using McpAuth;
using McpAuth.Behaviors;
using McpAuth.Ports;
using MediatR;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the McpAuth pipeline.</summary>
public static class McpAuthServiceCollectionExtensions
{
    /// <summary>
    /// The stages, outermost first. This is the one place the order is fixed; MediatR 5 nests behaviours in
    /// registration order (first registered = outermost).
    /// </summary>
    public static readonly IReadOnlyList<Type> StageOrder =
    [
        // 0. Outermost so that any fault in any stage or adapter becomes Unavailable (fail closed), never a 500.
        typeof(ExceptionGuardBehavior),
        // 1. Everything below needs the parsed token; no header → NoCredentials without further work.
        typeof(ParseBearerTokenBehavior),
        // 2. Cheap, offline (no I/O, no crypto): expired / wrong-audience tokens stop before any network call.
        typeof(OfflineValidationBehavior),
        // 3. Signature, issuer, audience at the issuer's keys: nothing unverified is sent to an STS or a cluster.
        typeof(OidcProviderValidationBehavior),
        // 4. Exchange only a verified token; the review below must see the exchanged (effective) token.
        typeof(TokenExchangeBehavior),
        // 5. TokenReview of the effective token on each target cluster: the last, costliest authentication step.
        typeof(TokenReviewBehavior),
        // 6. Authorization after authentication: a forged token gets 401, only a valid one can get 403.
        typeof(RequiredScopesBehavior),
        // 7. Per-tool step-up scopes, after the server-wide ones so the 403 names every scope needed.
        typeof(ToolScopesBehavior),
    ];

    /// <summary>
    /// Adds the authentication pipeline: options (bound from the <c>McpAuth</c> configuration section when an
    /// <see cref="IConfiguration"/> is registered, then <paramref name="configure"/>), validated at start; MediatR 5
    /// without its DI package; the stages in <see cref="StageOrder"/>; fail-closed default ports.
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
        services.TryAddSingleton<McpAuth.Caching.ValidatedTokenCache>();

        // MediatR 5.1.0 (ADR-001): ServiceFactory is IServiceProvider.GetService of the resolving scope.
        services.TryAddTransient<ServiceFactory>(sp => type => sp.GetService(type)!);
        services.TryAddTransient<IMediator, Mediator>();
        services.TryAddSingleton<IRequestHandler<AuthenticateRequest, AuthenticationOutcome>, AuthenticateRequestHandler>();

        // Ports: fail-closed defaults; adapters (or the host) replace them.
        services.TryAddSingleton<IOidcTokenValidator, NotConfiguredOidcTokenValidator>();
        services.TryAddSingleton<ITokenExchangeClient, NotConfiguredTokenExchangeClient>();
        services.TryAddSingleton<ITokenReviewClient, NotConfiguredTokenReviewClient>();

        foreach (var stage in StageOrder)
        {
            services.AddSingleton(typeof(IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>), stage);
        }

        return new McpAuthBuilder(services);
    }

    /// <summary>
    /// Replaces one stage with another implementation at the same position (e.g. a custom offline check).
    /// </summary>
    public static McpAuthBuilder ReplaceStage<TStage, TReplacement>(this McpAuthBuilder builder)
        where TStage : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
        where TReplacement : class, IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        for (var i = 0; i < services.Count; i++)
        {
            var d = services[i];
            if (d.ServiceType == typeof(IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>) && d.ImplementationType == typeof(TStage))
            {
                services[i] = ServiceDescriptor.Singleton<IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>, TReplacement>();
                return builder;
            }
        }

        throw new InvalidOperationException($"{typeof(TStage).Name} is not a registered stage.");
    }

    /// <summary>
    /// Registers <typeparamref name="TOptions"/> bound from the <c>McpAuth</c> configuration section when an
    /// <see cref="IConfiguration"/> is registered (every McpAuth setting lives in that one flat section). Idempotent.
    /// </summary>
    public static OptionsBuilder<TOptions> AddMcpAuthSettings<TOptions>(this IServiceCollection services)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<TOptions>, BindMcpAuthSection<TOptions>>());
        return services.AddOptions<TOptions>();
    }

    private sealed class McpAuthMarker;

    private sealed class BindMcpAuthSection<TOptions>(IConfiguration? configuration = null) : IConfigureOptions<TOptions>
        where TOptions : class
    {
        public void Configure(TOptions options) => configuration?.GetSection(McpAuthOptions.SectionName).Bind(options);
    }
}
