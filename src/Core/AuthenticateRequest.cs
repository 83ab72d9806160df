using MediatR;

namespace McpAuth;

/// <summary>
/// The command every protected request becomes. It carries what the host knows about the request; the stages of the
/// pipeline fill in <see cref="State"/> as they learn about the token.
/// </summary>
public sealed class AuthenticateRequest : IRequest<AuthenticationOutcome>
{
    private static readonly IReadOnlyList<string> DefaultTargets = [string.Empty];

    /// <summary>Creates the command for one HTTP request.</summary>
    /// <param name="authorization">The raw <c>Authorization</c> header value, or null when the request had none.</param>
    /// <param name="target">The target cluster (kubeconfig context); empty or null means the default one.</param>
    public AuthenticateRequest(string? authorization, string? target = null)
        : this(authorization, string.IsNullOrEmpty(target) ? DefaultTargets : [target], [])
    {
    }

    /// <summary>Creates the command for a request that carries JSON-RPC calls (one, or a batch).</summary>
    /// <param name="authorization">The raw <c>Authorization</c> header value, or null when the request had none.</param>
    /// <param name="targets">Every distinct target the request addresses; empty means the default target only.</param>
    /// <param name="calls">The JSON-RPC calls in the request body, for stages that authorize per operation.</param>
    public AuthenticateRequest(string? authorization, IReadOnlyList<string> targets, IReadOnlyList<McpCall> calls)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(calls);
        Authorization = authorization;
        Targets = targets.Count == 0 ? DefaultTargets : targets;
        Calls = calls;
    }

    /// <summary>The raw <c>Authorization</c> header value. Never log it.</summary>
    public string? Authorization { get; }

    /// <summary>Distinct target clusters this request addresses (at least one; <c>""</c> is the default cluster).</summary>
    public IReadOnlyList<string> Targets { get; }

    /// <summary>The JSON-RPC calls of the request body (empty when the host did not read one).</summary>
    public IReadOnlyList<McpCall> Calls { get; }

    /// <summary>What the stages learned so far.</summary>
    public AuthenticationState State { get; } = new();
}

/// <summary>One JSON-RPC call of an MCP request body.</summary>
/// <param name="Method">The JSON-RPC method, e.g. <c>tools/call</c>.</param>
/// <param name="ToolName">For <c>tools/call</c>, <c>params.name</c>; otherwise null.</param>
/// <param name="Target">The call's target cluster (<c>params.arguments.context</c>), empty for the default.</param>
public sealed record McpCall(string Method, string? ToolName, string Target);
