namespace McpAuth;

/// <summary>The result of sending an <see cref="AuthenticateRequest"/> through the pipeline.</summary>
public sealed class AuthenticationOutcome
{
    /// <summary>The shared "no credentials" outcome.</summary>
    public static readonly AuthenticationOutcome NoCredentials = new(AuthenticationOutcomeKind.NoCredentials, null, null);

    private AuthenticationOutcome(AuthenticationOutcomeKind kind, McpPrincipal? principal, AuthenticationError? error)
    {
        Kind = kind;
        Principal = principal;
        Error = error;
    }

    /// <summary>What was decided.</summary>
    public AuthenticationOutcomeKind Kind { get; }

    /// <summary>The authenticated caller, on success.</summary>
    public McpPrincipal? Principal { get; }

    /// <summary>Why the request was refused, on failure.</summary>
    public AuthenticationError? Error { get; }

    /// <summary>True on success.</summary>
    public bool Succeeded => Kind == AuthenticationOutcomeKind.Success;

    /// <summary>An accepted request.</summary>
    public static AuthenticationOutcome Success(McpPrincipal principal) =>
        new(AuthenticationOutcomeKind.Success, principal ?? throw new ArgumentNullException(nameof(principal)), null);

    /// <summary>A refused request.</summary>
    public static AuthenticationOutcome Failure(AuthenticationError error) =>
        new(AuthenticationOutcomeKind.Failure, null, error ?? throw new ArgumentNullException(nameof(error)));

    /// <summary>A refused request.</summary>
    public static AuthenticationOutcome Failure(
        AuthenticationErrorCode code, string description, string stage, IReadOnlyList<string>? requiredScopes = null) =>
        Failure(new AuthenticationError(code, description, stage, requiredScopes));

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        AuthenticationOutcomeKind.Failure => $"Failure({Error!.Code} at {Error.Stage}: {Error.Description})",
        _ => Kind.ToString(),
    };
}
