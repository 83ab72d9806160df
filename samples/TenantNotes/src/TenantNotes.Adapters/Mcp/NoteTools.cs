using System.ComponentModel;
using System.Text.Json;
using ModelContextProtocol.Server;
using TenantNotes.Application;
using TenantNotes.Domain;

namespace TenantNotes.Adapters.Mcp;

/// <summary>The MCP tools: a driving adapter of <see cref="NotesService"/>. No tool takes a tenant: it is the caller's.</summary>
[McpServerToolType]
public sealed class NoteTools(NotesService notes)
{
    public const string ListNotes = "list-notes";
    public const string AddNote = "add-note";

    [McpServerTool(Name = ListNotes, ReadOnly = true), Description("Lists the notes of your tenant, oldest first.")]
    public async Task<string> ListAsync(CancellationToken cancellationToken)
    {
        var list = await notes.ListAsync(cancellationToken);
        return JsonSerializer.Serialize(new { tenant = notes.Tenant.Value, notes = list.Select(View) });
    }

    [McpServerTool(Name = AddNote), Description("Adds a note to your tenant.")]
    public async Task<string> AddAsync([Description("The note's text (1 to 2000 characters).")] string text, CancellationToken cancellationToken)
    {
        var note = await notes.AddAsync(text, cancellationToken);
        return JsonSerializer.Serialize(new { tenant = note.Tenant.Value, note = View(note) });
    }

    private static object View(Note note) => new { id = note.Id, text = note.Text, author = note.Author, createdAt = note.CreatedAt };
}
