namespace McpAuth.AspNetCore.Tests.FaultMatrix;

/// <summary>docs/fault-matrix.md is the table: written when MCPAUTH_WRITE_FAULT_MATRIX=1, otherwise compared.</summary>
public sealed class FaultMatrixDocumentTests
{
    [Fact]
    public void Table_HasEveryPeerAndFaultOnce()
    {
        var pairs = FaultMatrixTable.Cells.Select(c => (c.Peer, c.Fault)).ToList();
        pairs.Should().OnlyHaveUniqueItems();
        pairs.Should().HaveCount(Enum.GetValues<Peer>().Length * Enum.GetValues<Fault>().Length);
        var run = new[]
        {
            DiscoveryFaultMatrixTests.Rows, JwksFaultMatrixTests.Rows, DiscoveryCachedFaultMatrixTests.Rows, JwksCachedFaultMatrixTests.Rows,
            StsFaultMatrixTests.Rows, TokenReviewFaultMatrixTests.Rows, IntrospectionFaultMatrixTests.Rows,
        }.SelectMany(rows => ((IEnumerable<object[]>)rows).Select(row => (string)row[0])).ToList();
        run.Should().BeEquivalentTo(FaultMatrixTable.Cells.Select(c => c.Name), "every cell is a theory row of exactly one class");
    }

    [Fact]
    public void Document_IsTheTable()
    {
        var rendered = FaultMatrixDocument.Render();
        var path = FaultMatrixDocument.PathInRepo;
        if (Environment.GetEnvironmentVariable(FaultMatrixDocument.WriteVariable) == "1")
        {
            File.WriteAllText(path, rendered);
            return;
        }

        File.Exists(path).Should().BeTrue($"docs/fault-matrix.md is committed; write it with {FaultMatrixDocument.WriteVariable}=1");
        File.ReadAllText(path).ReplaceLineEndings("\n").Should().Be(rendered,
            $"docs/fault-matrix.md must be what FaultMatrixTable renders; regenerate it with {FaultMatrixDocument.WriteVariable}=1 " +
            "dotnet test tests/Adapters/AspNetCore.Tests --filter FullyQualifiedName~FaultMatrixDocument");
    }
}
