using McpAuth.Ports;

namespace McpAuth.TestPeers;

/// <summary>A fake token-exchange port: answers <see cref="Result"/>, counts calls, remembers the subject token.</summary>
public sealed class FakeExchangeClient(Journal? journal = null) : ITokenExchangeClient
{
    private int _calls;

    public TokenExchangeResult Result { get; set; } = TokenExchangeResult.Exchanged("exchanged-token", DateTimeOffset.UtcNow.AddMinutes(5));

    public int Calls => Volatile.Read(ref _calls);

    public string? LastSubjectToken { get; private set; }

    public ValueTask<TokenExchangeResult> ExchangeAsync(string subjectToken, DateTimeOffset? subjectExpiresAt, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        LastSubjectToken = subjectToken;
        journal?.Add("exchange");
        return ValueTask.FromResult(Result);
    }
}
