using McpAuth.AspNetCore;
using Microsoft.AspNetCore.Http;
using TenantNotes.Application;
using TenantNotes.Domain;

namespace TenantNotes.Adapters.Auth;

/// <summary>
/// <see cref="ICurrentCaller"/> from the current request: the tenant <see cref="TenantCheckBehavior"/> put there, the
/// account the account directory returned. A request McpAuth did not authenticate has neither: it throws (fail closed).
/// </summary>
public sealed class HttpCurrentCaller(IHttpContextAccessor http) : ICurrentCaller
{
    public TenantId Tenant =>
        Features.Get<TenantFeature>()?.Tenant ?? throw new InvalidOperationException("This request has no tenant: McpAuth with the TenantCheck stage did not authenticate it.");

    public string Account =>
        Features.Get<McpAuthFeature>()?.Principal.ClusterUser?.Username
        ?? throw new InvalidOperationException("This request has no account: the account directory did not review it.");

    private Microsoft.AspNetCore.Http.Features.IFeatureCollection Features =>
        (http.HttpContext ?? throw new InvalidOperationException("There is no current request.")).Features;
}
