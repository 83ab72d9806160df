using McpAuth.Ports;
using McpAuth.Tokens;

namespace McpAuth.TestPeers;

/// <summary>A fake issuer port: answers <see cref="Result"/>, counts calls, writes "oidc" to an optional journal.</summary>
public sealed class FakeOidcValidator(Journal? journal = null) : IOidcTokenValidator
{
    private int _calls;

    public OidcValidationResult Result { get; set; } = OidcValidationResult.Valid;

    public int Calls => Volatile.Read(ref _calls);

    public ValueTask<OidcValidationResult> ValidateAsync(ParsedToken token, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        journal?.Add("oidc");
        return ValueTask.FromResult(Result);
    }
}
