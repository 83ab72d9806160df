namespace McpAuth;

/// <summary>What is known about a request's JSON-RPC calls.</summary>
public enum McpCallSetStatus
{
    /// <summary>The calls were read (possibly none, e.g. a GET request).</summary>
    Read,

    /// <summary>The host did not supply the calls: a stage that needs them must refuse, not assume "none".</summary>
    NotSupplied,

    /// <summary>The body could not be read or decoded as the MCP endpoint would decode it: the request is refused.</summary>
    Refused,
}

/// <summary>The JSON-RPC calls of a request, or why they are not available.</summary>
public sealed class McpCallSet
{
    private static readonly IReadOnlyList<string> DefaultTargets = [string.Empty];

    /// <summary>The calls were not supplied by the host.</summary>
    public static McpCallSet NotSupplied { get; } = new(McpCallSetStatus.NotSupplied, [], DefaultTargets, null);

    /// <summary>A request with no calls (e.g. GET or DELETE on the MCP endpoint).</summary>
    public static McpCallSet None { get; } = new(McpCallSetStatus.Read, [], DefaultTargets, null);

    private McpCallSet(McpCallSetStatus status, IReadOnlyList<McpCall> calls, IReadOnlyList<string> targets, AuthenticationError? refusal)
    {
        Status = status;
        Calls = calls;
        Targets = targets;
        Refusal = refusal;
    }

    /// <summary>Read, not supplied, or refused.</summary>
    public McpCallSetStatus Status { get; }

    /// <summary>The calls, in body order (empty unless <see cref="Status"/> is <see cref="McpCallSetStatus.Read"/>).</summary>
    public IReadOnlyList<McpCall> Calls { get; }

    /// <summary>Every distinct target the calls address; <c>[""]</c> (the default cluster) when none names one.</summary>
    public IReadOnlyList<string> Targets { get; }

    /// <summary>Why the calls were refused (code, safe description, deciding component).</summary>
    public AuthenticationError? Refusal { get; }

    /// <summary>The set of <paramref name="calls"/>.</summary>
    public static McpCallSet Of(IReadOnlyList<McpCall> calls)
    {
        ArgumentNullException.ThrowIfNull(calls);
        if (calls.Count == 0)
        {
            return None;
        }

        string[] targets;
        if (calls.Count == 1)
        {
            targets = [calls[0].Target];
        }
        else
        {
            targets = calls.Select(c => c.Target).Distinct(StringComparer.Ordinal).ToArray();
        }

        return new McpCallSet(McpCallSetStatus.Read, calls, targets, null);
    }

    /// <summary>The body was refused: too large, too slow, or not decodable as the endpoint would decode it.</summary>
    /// <param name="code"><see cref="AuthenticationErrorCode.InvalidRequest"/>, <see cref="AuthenticationErrorCode.RequestTooLarge"/> or <see cref="AuthenticationErrorCode.RequestTimeout"/>.</param>
    /// <param name="description">A safe description for the client.</param>
    /// <param name="source">The component that refused (e.g. <c>McpBody</c>).</param>
    public static McpCallSet Refused(AuthenticationErrorCode code, string description, string source) =>
        new(McpCallSetStatus.Refused, [], DefaultTargets, new AuthenticationError(code, description, source));
}
