using McpAuth;
using McpAuth.Behaviors;
using MediatR;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Returned by <c>AddMcpAuth</c>: chain adapter registrations on it (<c>.AddOidcProvider()</c>, …) and change the
/// stages: <see cref="ReplaceStage{TStage,TReplacement}"/>, <see cref="InsertStageBefore{TExisting,TNew}"/>,
/// <see cref="InsertStageAfter{TExisting,TNew}"/>. The order of the stages is the order of their registrations.
/// </summary>
/// <param name="services">The service collection being configured.</param>
public sealed class McpAuthBuilder(IServiceCollection services)
{
    private static readonly Type StageService = typeof(IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>);

    /// <summary>The service collection being configured.</summary>
    public IServiceCollection Services { get; } = services ?? throw new ArgumentNullException(nameof(services));

    /// <summary>The registered stages, outermost first.</summary>
    public IReadOnlyList<Type> Stages =>
        Services.Where(d => d.ServiceType == StageService).Select(d => d.ImplementationType ?? typeof(object)).ToList();

    /// <summary>Replaces stage <typeparamref name="TStage"/> with <typeparamref name="TReplacement"/> at the same position.</summary>
    public McpAuthBuilder ReplaceStage<TStage, TReplacement>(ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TStage : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
        where TReplacement : class, IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
    {
        var index = IndexOf<TStage>();
        Services[index] = Describe<TReplacement>(lifetime);
        return this;
    }

    /// <summary>Inserts stage <typeparamref name="TNew"/> just outside (before) <typeparamref name="TExisting"/>.</summary>
    public McpAuthBuilder InsertStageBefore<TExisting, TNew>(ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TExisting : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
        where TNew : class, IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
    {
        Services.Insert(IndexOf<TExisting>(), Describe<TNew>(lifetime));
        return this;
    }

    /// <summary>Inserts stage <typeparamref name="TNew"/> just inside (after) <typeparamref name="TExisting"/>.</summary>
    public McpAuthBuilder InsertStageAfter<TExisting, TNew>(ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TExisting : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
        where TNew : class, IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
    {
        Services.Insert(IndexOf<TExisting>() + 1, Describe<TNew>(lifetime));
        return this;
    }

    private int IndexOf<TStage>()
    {
        for (var i = 0; i < Services.Count; i++)
        {
            if (Services[i].ServiceType == StageService && Services[i].ImplementationType == typeof(TStage))
            {
                return i;
            }
        }

        throw new InvalidOperationException($"{typeof(TStage).Name} is not a registered McpAuth stage (stages: {string.Join(", ", Stages.Select(StageName.Of))}).");
    }

    private ServiceDescriptor Describe<TStage>(ServiceLifetime lifetime)
        where TStage : class, IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
    {
        if (Services.Any(d => d.ServiceType == StageService && d.ImplementationType == typeof(TStage)))
        {
            throw new InvalidOperationException($"{typeof(TStage).Name} is already a registered McpAuth stage (stages: {string.Join(", ", Stages.Select(StageName.Of))}).");
        }

        return new ServiceDescriptor(StageService, typeof(TStage), lifetime);
    }
}
