using TenantNotes.Domain;

namespace TenantNotes.Adapters.Auth;

/// <summary>The request's tenant, as <see cref="TenantCheckBehavior"/> established it (<c>HttpContext.Features</c>).</summary>
public sealed record TenantFeature(TenantId Tenant);
