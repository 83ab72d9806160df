using TenantNotes.Application;
using TenantNotes.Domain;

namespace TenantNotes.Adapters.Persistence;

/// <summary>Notes in memory, kept per tenant.</summary>
public sealed class InMemoryNoteStore : INoteStore
{
    private readonly Dictionary<TenantId, List<Note>> _notes = new();

    public Task AddAsync(Note note, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(note);
        lock (_notes)
        {
            if (!_notes.TryGetValue(note.Tenant, out var notes))
            {
                _notes[note.Tenant] = notes = new List<Note>();
            }

            notes.Add(note);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<Note>> ListAsync(TenantId tenant, CancellationToken cancellationToken)
    {
        lock (_notes)
        {
            IReadOnlyList<Note> notes = _notes.TryGetValue(tenant, out var list) ? list.ToArray() : [];
            return Task.FromResult(notes);
        }
    }
}
