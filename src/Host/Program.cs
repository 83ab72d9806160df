using McpAuth.Host;
using Microsoft.Extensions.Options;

var result = McpAuthHost.Build(args);
if (result.App is null)
{
    if (result.ExitCode == 0)
    {
        Console.WriteLine(result.Message);
    }
    else
    {
        Console.Error.WriteLine("mcpauth: " + result.Message);
    }

    return result.ExitCode;
}

await using var app = result.App;
try
{
    await app.StartAsync();
}
catch (OptionsValidationException ex)
{
    Console.Error.WriteLine("mcpauth: " + string.Join(" ", ex.Failures));
    return 2;
}

if (result.Demo is { } demo)
{
    var baseUrl = app.Urls.First().TrimEnd('/');
    var token = demo.CreateToken(baseUrl + "/mcp", ["read", "write"], TimeSpan.FromHours(1));
    const string call = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"whoami\",\"arguments\":{}}}";
    Console.WriteLine(string.Join(Environment.NewLine,
        "",
        $"McpAuth demo: an MCP server at {baseUrl}/mcp protected by McpAuth, with a development issuer at {demo.Issuer}.",
        $"A token valid for one hour (audience {baseUrl}/mcp):",
        "",
        $"TOKEN={token}",
        "",
        "Call the whoami tool (in the same shell, after setting TOKEN as above):",
        "",
        $"curl -s {baseUrl}/mcp -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d '{call}'",
        "",
        $"Without the token you get 401 and a WWW-Authenticate challenge pointing at {baseUrl}/.well-known/oauth-protected-resource/mcp.",
        ""));
}

await app.WaitForShutdownAsync();
return 0;
