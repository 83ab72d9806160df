namespace TenantNotes.Domain;

/// <summary>A note. It belongs to exactly one tenant, for good.</summary>
public sealed record Note(Guid Id, TenantId Tenant, string Text, string Author, DateTimeOffset CreatedAt)
{
    public const int MaxLength = 2000;

    public static Note Create(TenantId tenant, string text, string author, DateTimeOffset now)
    {
        if (tenant == default)
        {
            throw new ArgumentException("A note needs a tenant.", nameof(tenant));
        }

        text = text?.Trim() ?? string.Empty;
        if (text.Length is 0 or > MaxLength)
        {
            throw new ArgumentException($"A note has 1 to {MaxLength} characters.", nameof(text));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(author);
        return new Note(Guid.NewGuid(), tenant, text, author, now);
    }
}
