using Microsoft.Extensions.Options;
using TenantNotes.Application;
using TenantNotes.Domain;

namespace TenantNotes.Adapters.Tenancy;

/// <summary>The served tenants, from configuration (<c>TenantNotes:Tenants</c>).</summary>
public sealed class ConfiguredTenantDirectory(IOptions<TenantNotesOptions> options) : ITenantDirectory
{
    private readonly HashSet<TenantId> _tenants = options.Value.Tenants.Select(TenantId.Parse).ToHashSet();

    public bool Serves(TenantId tenant) => _tenants.Contains(tenant);
}
