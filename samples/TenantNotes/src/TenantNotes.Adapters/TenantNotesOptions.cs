namespace TenantNotes.Adapters;

/// <summary>The <c>TenantNotes</c> configuration section.</summary>
public sealed class TenantNotesOptions
{
    public const string SectionName = "TenantNotes";

    /// <summary>The tenants this service serves (a token of any other tenant is refused).</summary>
    public IList<string> Tenants { get; set; } = new List<string>();

    /// <summary>The account directory: token subject (the client id, for client-credentials tokens) → account name.</summary>
    public IDictionary<string, string> Accounts { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
