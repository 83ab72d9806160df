using TenantNotes.Domain;

namespace TenantNotes.Application;

/// <summary>
/// The use cases: add a note, list notes. Always for the current caller's tenant, which the caller cannot choose: a
/// tool (or any other driving adapter) has no parameter through which another tenant's notes could be reached.
/// </summary>
public sealed class NotesService(INoteStore store, ICurrentCaller caller, TimeProvider time)
{
    public TenantId Tenant => caller.Tenant;

    public async Task<Note> AddAsync(string text, CancellationToken cancellationToken)
    {
        var note = Note.Create(caller.Tenant, text, caller.Account, time.GetUtcNow());
        await store.AddAsync(note, cancellationToken);
        return note;
    }

    public Task<IReadOnlyList<Note>> ListAsync(CancellationToken cancellationToken) => store.ListAsync(caller.Tenant, cancellationToken);
}
