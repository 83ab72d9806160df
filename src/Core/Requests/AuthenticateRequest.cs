using MediatR;

namespace McpAuth;

/// <summary>
/// The command every protected request becomes. It carries what the host knows about the request; the stages of the
/// pipeline fill in <see cref="State"/> as they learn about the token.
/// </summary>
/// <remarks>
/// The JSON-RPC calls of the request (which tool, which cluster) come from an <see cref="IMcpCallSource"/> that is read
/// only when a stage needs them, and only once. A request built without a source has calls "not supplied", which is not
/// the same as "no calls": a stage that needs them refuses the request instead of guessing.
/// </remarks>
public sealed class AuthenticateRequest : IRequest<AuthenticationOutcome>
{
    private readonly IMcpCallSource? _calls;
    private McpCallSet? _read;

    /// <summary>Creates the command for a request whose calls the host cannot supply (a stage that needs them refuses).</summary>
    /// <param name="authorization">The raw <c>Authorization</c> header value, or null when the request had none.</param>
    public AuthenticateRequest(string? authorization)
        : this(authorization, (IMcpCallSource?)null)
    {
    }

    /// <summary>Creates the command for one request.</summary>
    /// <param name="authorization">The raw <c>Authorization</c> header value, or null when the request had none.</param>
    /// <param name="calls">Where the request's JSON-RPC calls can be read; null when the host cannot supply them.</param>
    public AuthenticateRequest(string? authorization, IMcpCallSource? calls)
    {
        Authorization = authorization;
        _calls = calls;
    }

    /// <summary>Creates the command for a request whose calls are already known (possibly none).</summary>
    /// <param name="authorization">The raw <c>Authorization</c> header value, or null when the request had none.</param>
    /// <param name="calls">The JSON-RPC calls of the request.</param>
    public AuthenticateRequest(string? authorization, IReadOnlyList<McpCall> calls)
    {
        ArgumentNullException.ThrowIfNull(calls);
        Authorization = authorization;
        _read = McpCallSet.Of(calls);
    }

    /// <summary>The command for a request addressed to one target cluster (kubeconfig context), with no JSON-RPC calls.</summary>
    /// <param name="authorization">The raw <c>Authorization</c> header value, or null when the request had none.</param>
    /// <param name="target">The target cluster; empty means the default one.</param>
    public static AuthenticateRequest ForTarget(string? authorization, string target) =>
        new(authorization, [new McpCall(string.Empty, null, target ?? string.Empty)]);

    /// <summary>The raw <c>Authorization</c> header value. Never log it.</summary>
    public string? Authorization { get; }

    /// <summary>The DPoP proof and the request it must be bound to, when the host supplies them (DPoP not off).</summary>
    public DpopRequest? Dpop { get; init; }

    /// <summary>What the stages learned so far.</summary>
    public AuthenticationState State { get; } = new();

    /// <summary>True once the calls were read (or were given).</summary>
    public bool CallsRead => _read is not null;

    /// <summary>
    /// The request's JSON-RPC calls, read from the source on first use. Stages call this only when they need the calls,
    /// so the body is never read for a token that an earlier stage refused.
    /// </summary>
    public ValueTask<McpCallSet> GetCallsAsync(CancellationToken cancellationToken)
    {
        if (_read is { } read)
        {
            return ValueTask.FromResult(read);
        }

        return _calls is null ? ValueTask.FromResult(_read = McpCallSet.NotSupplied) : ReadAsync(_calls, cancellationToken);
    }

    private async ValueTask<McpCallSet> ReadAsync(IMcpCallSource source, CancellationToken cancellationToken) =>
        _read = await source.ReadCallsAsync(cancellationToken).ConfigureAwait(false);
}
