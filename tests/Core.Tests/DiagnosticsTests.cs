using System.Diagnostics;
using McpAuth.Diagnostics;
using McpAuth.Ports;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace McpAuth.Core.Tests;

public class DiagnosticsTests
{
    private static async Task<List<(string Name, string? Outcome)>> Spans(Func<IMediator, Task> act, Action<McpAuthOptions> configure)
    {
        // Other test classes run in parallel and also make McpAuth spans: keep only those under this test's root span.
        using var testSource = new ActivitySource("McpAuth.Core.Tests." + Guid.NewGuid().ToString("N"));
        var spans = new List<(string, string?)>();
        ActivityTraceId? trace = null;
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == McpAuthDiagnostics.Name || s == testSource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (a.Source.Name == McpAuthDiagnostics.Name && a.TraceId == trace)
                {
                    lock (spans)
                    {
                        spans.Add((a.OperationName, a.GetTagItem("mcpauth.outcome") as string));
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var root = testSource.StartActivity("test")!;
        trace = root.TraceId;
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(Tokens.Now));
        services.AddMcpAuth(o => { o.RequireOAuth = true; o.AuthorizationUrl = "https://issuer.test"; configure(o); });
        services.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator>(new FakeOidcValidator()));
        services.Replace(ServiceDescriptor.Singleton<ITokenExchangeClient>(new FakeExchangeClient()));
        services.Replace(ServiceDescriptor.Singleton<ITokenReviewClient>(new FakeReviewClient()));
        await act(services.BuildServiceProvider().GetRequiredService<IMediator>());
        return spans;
    }

    [Fact]
    public async Task EnabledStages_EachHaveASpanWithTheOutcome_DisabledStagesNone()
    {
        var token = "Bearer " + Tokens.Create();
        var spans = await Spans(m => m.Send(new AuthenticateRequest(token)), o => o.RequiredScopes = ["read"]);
        spans.Should().Equal(
            ("McpAuth.ParseBearerToken", "passed"), ("McpAuth.OfflineValidation", "passed"),
            ("McpAuth.OidcProviderValidation", "passed"), ("McpAuth.RequiredScopes", "passed"));
    }

    [Fact]
    public async Task RepeatedToken_ParseSpanSaysCached_AndARefusalIsTaggedWithItsCode()
    {
        var token = "Bearer " + Tokens.Create();
        var expired = "Bearer " + Tokens.Create(Tokens.Valid(("exp", Tokens.Now.AddHours(-1).ToUnixTimeSeconds())));
        var spans = await Spans(async m =>
        {
            await m.Send(new AuthenticateRequest(token));
            await m.Send(new AuthenticateRequest(token));
            await m.Send(new AuthenticateRequest(expired));
        }, _ => { });
        spans.Skip(3).Should().Equal(
            ("McpAuth.ParseBearerToken", "cached"), ("McpAuth.OfflineValidation", "passed"),
            ("McpAuth.ParseBearerToken", "passed"), ("McpAuth.OfflineValidation", "InvalidToken"));
    }
}
