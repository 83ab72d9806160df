using TenantNotes.Domain;

namespace TenantNotes.Application;

/// <summary>Port: where notes are kept. Every read names the tenant; there is no way to read across tenants.</summary>
public interface INoteStore
{
    Task AddAsync(Note note, CancellationToken cancellationToken);

    /// <summary>The notes of <paramref name="tenant"/>, oldest first.</summary>
    Task<IReadOnlyList<Note>> ListAsync(TenantId tenant, CancellationToken cancellationToken);
}
