using System.Text;
using System.Text.Json;
using McpAuth.Ports;
using MediatR;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;

namespace McpAuth.Core.Tests;

/// <summary>Unsigned test JWTs: Core never verifies signatures, so any signature bytes do.</summary>
internal static class Tokens
{
    public static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    public static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Create(object? payload = null, string alg = "RS256") =>
        $"{B64(JsonSerializer.Serialize(new { alg, typ = "JWT", kid = "k1" }))}.{B64(JsonSerializer.Serialize(payload ?? Valid()))}.c2lnbmF0dXJl";

    public static Dictionary<string, object> Valid(params (string Key, object Value)[] extra)
    {
        var claims = new Dictionary<string, object>
        {
            ["iss"] = "https://issuer.test",
            ["sub"] = "alice",
            ["aud"] = "mcp-server",
            ["exp"] = Now.AddMinutes(10).ToUnixTimeSeconds(),
            ["iat"] = Now.AddMinutes(-1).ToUnixTimeSeconds(),
            ["scope"] = "read write",
        };
        foreach (var (k, v) in extra)
        {
            claims[k] = v;
        }

        return claims;
    }

    public static AuthenticateRequest Parsed(object? payload = null, string? target = null)
    {
        var token = Create(payload);
        var request = new AuthenticateRequest("Bearer " + token, target);
        var jwt = new JsonWebToken(token);
        var s = request.State;
        s.RawToken = token;
        s.EffectiveToken = token;
        s.Token = jwt;
        s.Audiences = jwt.Audiences.ToArray();
        s.ExpiresAt = jwt.TryGetPayloadValue<long>("exp", out var exp) ? DateTimeOffset.FromUnixTimeSeconds(exp) : null;
        s.NotBefore = jwt.TryGetPayloadValue<long>("nbf", out var nbf) ? DateTimeOffset.FromUnixTimeSeconds(nbf) : null;
        s.IssuedAt = jwt.TryGetPayloadValue<long>("iat", out var iat) ? DateTimeOffset.FromUnixTimeSeconds(iat) : null;
        s.Scopes = jwt.TryGetPayloadValue<string>("scope", out var sc) ? sc.Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];
        return request;
    }
}

/// <summary>A <c>next</c> delegate that records whether the pipeline went on.</summary>
internal sealed class Next
{
    public static readonly AuthenticationOutcome Passed = AuthenticationOutcome.Success(
        new McpPrincipal("next", null, [], [], "t", false, null, new Dictionary<string, ClusterUser>()));

    public int Calls { get; private set; }

    public RequestHandlerDelegate<AuthenticationOutcome> Delegate => () =>
    {
        Calls++;
        return Task.FromResult(Passed);
    };
}

internal static class Opt
{
    public static IOptions<McpAuthOptions> Of(Action<McpAuthOptions>? configure = null)
    {
        var o = new McpAuthOptions { RequireOAuth = true, AuthorizationUrl = "https://issuer.test" };
        configure?.Invoke(o);
        return Options.Create(o);
    }

    public static FakeTimeProvider Clock() => new(Tokens.Now);

    public static NullLogger<T> Log<T>() => NullLogger<T>.Instance;
}

/// <summary>Fake ports that count calls and write to a shared journal, to prove order and short-circuits.</summary>
internal sealed class Journal
{
    public List<string> Entries { get; } = [];
}

internal sealed class FakeOidcValidator(Journal? journal = null) : IOidcTokenValidator
{
    public OidcValidationResult Result { get; set; } = OidcValidationResult.Valid;
    public int Calls { get; private set; }

    public ValueTask<OidcValidationResult> ValidateAsync(JsonWebToken token, CancellationToken cancellationToken)
    {
        Calls++;
        journal?.Entries.Add("oidc");
        return ValueTask.FromResult(Result);
    }
}

internal sealed class FakeExchangeClient(Journal? journal = null) : ITokenExchangeClient
{
    public TokenExchangeResult Result { get; set; } = TokenExchangeResult.Exchanged("exchanged-token", Tokens.Now.AddMinutes(5));
    public int Calls { get; private set; }
    public string? LastSubjectToken { get; private set; }

    public ValueTask<TokenExchangeResult> ExchangeAsync(string subjectToken, DateTimeOffset? subjectExpiresAt, CancellationToken cancellationToken)
    {
        Calls++;
        LastSubjectToken = subjectToken;
        journal?.Entries.Add("exchange");
        return ValueTask.FromResult(Result);
    }
}

internal sealed class FakeReviewClient(Journal? journal = null) : ITokenReviewClient
{
    public Func<TokenReviewRequest, TokenReviewResult> Answer { get; set; } =
        r => TokenReviewResult.Authenticated(new ClusterUser("system:alice", "u1", ["dev"], new Dictionary<string, IReadOnlyList<string>>()), r.Audiences);
    public List<TokenReviewRequest> Requests { get; } = [];

    public ValueTask<TokenReviewResult> ReviewAsync(TokenReviewRequest request, CancellationToken cancellationToken)
    {
        Requests.Add(request);
        journal?.Entries.Add("review:" + request.Target);
        return ValueTask.FromResult(Answer(request));
    }
}
