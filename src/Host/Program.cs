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
    // The curl quick start's token: demo-user with the basic scope (admin-action answers 403 until the client steps up).
    var token = demo.CreateAccessToken(app.Services, [McpAuth.Host.Demo.DemoAuthorizationServer.ReadScope], TimeSpan.FromHours(1));
    Console.WriteLine(demo.Banner(token));
}

await app.WaitForShutdownAsync();
return 0;
