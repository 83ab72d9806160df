using McpAuth.Ports;

namespace McpAuth.TestPeers;

/// <summary>
/// A fake TokenReview port: authenticates every token as <c>alice@&lt;target&gt;</c> (target "unknown" is an unknown
/// cluster) unless <see cref="Answer"/> says otherwise; records every request; writes "review:&lt;target&gt;" to an
/// optional journal.
/// </summary>
public sealed class FakeReviewClient(Journal? journal = null) : ITokenReviewClient
{
    private readonly List<TokenReviewRequest> _requests = [];

    public Func<TokenReviewRequest, TokenReviewResult> Answer { get; set; } = r => r.Target == "unknown"
        ? TokenReviewResult.UnknownTarget("Unknown cluster context 'unknown'.")
        : TokenReviewResult.Authenticated(new ClusterUser("alice@" + r.Target, "u1", ["dev"], new Dictionary<string, IReadOnlyList<string>>()), r.Audiences);

    public IReadOnlyList<TokenReviewRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return _requests.ToArray();
            }
        }
    }

    public ValueTask<TokenReviewResult> ReviewAsync(TokenReviewRequest request, CancellationToken cancellationToken)
    {
        lock (_requests)
        {
            _requests.Add(request);
        }

        journal?.Add("review:" + request.Target);
        return ValueTask.FromResult(Answer(request));
    }
}
