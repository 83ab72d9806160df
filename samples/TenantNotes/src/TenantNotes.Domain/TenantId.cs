using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace TenantNotes.Domain;

/// <summary>A tenant's id: lower-case letters, digits and dashes, starting with a letter, at most 63 characters.</summary>
public readonly partial record struct TenantId
{
    private TenantId(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse([NotNullWhen(true)] string? value, out TenantId tenant)
    {
        tenant = default;
        if (value is null || !Shape().IsMatch(value))
        {
            return false;
        }

        tenant = new TenantId(value);
        return true;
    }

    public static TenantId Parse(string value) =>
        TryParse(value, out var tenant) ? tenant : throw new FormatException($"'{value}' is not a tenant id.");

    public override string ToString() => Value;

    [GeneratedRegex("^[a-z][a-z0-9-]{0,62}$")]
    private static partial Regex Shape();
}
