using McpAuth.Diagnostics;

namespace McpAuth.Core.Tests;

/// <summary>Peer- or attacker-supplied values are made safe to log: printable ASCII only, bounded, original length noted.</summary>
public class LogValueTests
{
    [Fact]
    public void Clean_Null_IsNone()
    {
        LogValue.Clean(null).Should().Be("(none)");
    }

    [Theory]
    [InlineData("Empty", "")]
    [InlineData("Kid", "key-2026-11")]
    [InlineData("PrintableEdges", " ~")]
    [InlineData("Url", "https://issuer.example.com/realms/mcp?x=1")]
    public void Clean_PrintableAsciiWithinTheBound_IsTheSameString(string name, string value)
    {
        LogValue.Clean(value).Should().BeSameAs(value, name);
    }

    [Theory]
    [InlineData("CrLf", "a\r\nb", "a??b")]
    [InlineData("AnsiEscape", "\u001b[31mred", "?[31mred")]
    [InlineData("Delete", "a\u007fb", "a?b")]
    [InlineData("UnitSeparator", "\u001f", "?")]
    [InlineData("NonAscii", "clé", "cl?")]
    [InlineData("Tab", "a\tb", "a?b")]
    [InlineData("DirtyAtTheEnd", "abc\n", "abc?")]
    public void Clean_ControlAndNonAsciiCharacters_BecomeQuestionMarks(string name, string value, string expected)
    {
        LogValue.Clean(value).Should().Be(expected, name);
    }

    [Fact]
    public void Clean_ExactlyTheDefaultBound_IsKept_OneMoreIsCutWithTheLengthNoted()
    {
        LogValue.DefaultMaxLength.Should().Be(128);
        var atBound = new string('k', 128);
        LogValue.Clean(atBound).Should().BeSameAs(atBound);
        var over = new string('k', 128) + "x";
        LogValue.Clean(over).Should().Be(new string('k', 128) + "…(129 chars)");
    }

    [Theory]
    [InlineData("CleanButLong", "abcdef", 3, "abc…(6 chars)")]
    [InlineData("DirtyAndLong", "a\nbcdef", 3, "a?b…(7 chars)")]
    [InlineData("DirtyOnlyPastTheBound", "abc\ndef", 3, "abc…(7 chars)")]
    [InlineData("ZeroBoundIsOne", "abc", 0, "a…(3 chars)")]
    [InlineData("NegativeBoundIsOne", "abc", -5, "a…(3 chars)")]
    [InlineData("BoundLargerThanValue", "a\nb", 10, "a?b")]
    public void Clean_CustomBound(string name, string value, int maxLength, string expected)
    {
        LogValue.Clean(value, maxLength).Should().Be(expected, name);
    }
}
