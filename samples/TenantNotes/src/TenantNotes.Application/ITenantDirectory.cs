using TenantNotes.Domain;

namespace TenantNotes.Application;

/// <summary>Port: the tenants this service serves.</summary>
public interface ITenantDirectory
{
    bool Serves(TenantId tenant);
}
