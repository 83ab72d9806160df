using TenantNotes.Domain;

namespace TenantNotes.Application;

/// <summary>Port: who is calling, as authentication established it. Throws when nobody was authenticated (fail closed).</summary>
public interface ICurrentCaller
{
    /// <summary>The caller's tenant: one this service serves.</summary>
    TenantId Tenant { get; }

    /// <summary>The caller's account name.</summary>
    string Account { get; }
}
