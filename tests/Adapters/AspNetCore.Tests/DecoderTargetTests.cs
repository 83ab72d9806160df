using System.Text;

namespace McpAuth.AspNetCore.Tests;

/// <summary>
/// The TokenReview target is read as the MCP SDK binds the tool's <c>context</c> argument: by exact name. Found by the
/// decoder properties: <c>"Context"</c> was read as the target while the SDK called the tool without one, so the token was
/// reviewed on one cluster and the tool ran on the default one.
/// </summary>
public sealed class DecoderTargetTests
{
    private static McpCallSet Decode(string arguments) => McpJsonRpcDecoder.Decode(Encoding.UTF8.GetBytes(
        $$$"""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{{{arguments}}}}}"""));

    [Fact]
    public void ExactContext_IsTheTarget()
    {
        var calls = Decode("""{"context":"beta"}""");
        calls.Status.Should().Be(McpCallSetStatus.Read);
        calls.Calls.Should().ContainSingle().Which.Target.Should().Be("beta");
    }

    [Theory]
    [InlineData("""{"Context":"beta"}""")]
    [InlineData("""{"CONTEXT":"beta"}""")]
    [InlineData("""{"conText":null}""")]
    public void ContextInAnotherCase_IsRefused_NotReadAsATarget(string arguments)
    {
        var calls = Decode(arguments);
        calls.Status.Should().NotBe(McpCallSetStatus.Read, "the SDK would run the tool with no context, on the default cluster");
    }

    [Fact]
    public void NoContext_IsTheDefaultCluster()
    {
        Decode("""{"other":"x"}""").Calls.Should().ContainSingle().Which.Target.Should().Be("");
    }
}
