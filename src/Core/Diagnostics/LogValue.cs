using System.Text;

namespace McpAuth.Diagnostics;

/// <summary>
/// Makes a peer- or attacker-supplied value safe to log: control characters (CR, LF, ESC of ANSI sequences, …) and
/// non-ASCII become <c>?</c>, and the value is cut at a bound with the original length noted, so no value can forge a
/// log line, colour a terminal or make a 10 KB line.
/// </summary>
public static class LogValue
{
    /// <summary>The default bound: enough for a <c>kid</c>, an error code, a URL.</summary>
    public const int DefaultMaxLength = 128;

    /// <summary>The cleaned value; <c>(none)</c> for null.</summary>
    public static string Clean(string? value, int maxLength = DefaultMaxLength)
    {
        if (value is null)
        {
            return "(none)";
        }

        var length = Math.Min(value.Length, Math.Max(1, maxLength));
        var clean = true;
        for (var i = 0; i < length && clean; i++)
        {
            clean = value[i] is >= ' ' and <= '~';
        }

        if (clean && length == value.Length)
        {
            return value;
        }

        var builder = new StringBuilder(length + 24);
        for (var i = 0; i < length; i++)
        {
            var c = value[i];
            builder.Append(c is >= ' ' and <= '~' ? c : '?');
        }

        if (length < value.Length)
        {
            builder.Append("…(").Append(value.Length).Append(" chars)");
        }

        return builder.ToString();
    }
}
