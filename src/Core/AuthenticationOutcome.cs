namespace McpAuth;

/// <summary>How the pipeline decided about one request.</summary>
public enum AuthenticationOutcomeKind
{
    /// <summary>The token was accepted; <see cref="AuthenticationOutcome.Principal"/> is set.</summary>
    Success,

    /// <summary>The request carried no bearer token.</summary>
    NoCredentials,

    /// <summary>The request was refused; <see cref="AuthenticationOutcome.Error"/> says why.</summary>
    Failure,
}

/// <summary>Why a request was refused. Maps to an HTTP status and an RFC 6750 error code in the host.</summary>
public enum AuthenticationErrorCode
{
    /// <summary>The token is malformed, expired, forged, for another audience, or refused by a peer (401).</summary>
    InvalidToken,

    /// <summary>The token is valid but lacks a scope the operation needs (403).</summary>
    InsufficientScope,

    /// <summary>The request itself is wrong, e.g. it names an unknown cluster (400).</summary>
    InvalidRequest,

    /// <summary>A peer (issuer, STS, API server) failed or timed out: not the caller's fault (503).</summary>
    Unavailable,
}

/// <summary>A refusal, safe to show to the client.</summary>
/// <param name="Code">The error class.</param>
/// <param name="Description">A short description that contains no token, secret or internal detail.</param>
/// <param name="Stage">The name of the stage that decided.</param>
/// <param name="RequiredScopes">For <see cref="AuthenticationErrorCode.InsufficientScope"/>: every scope needed.</param>
public sealed record AuthenticationError(
    AuthenticationErrorCode Code,
    string Description,
    string Stage,
    IReadOnlyList<string>? RequiredScopes = null);

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

/// <summary>The authenticated caller.</summary>
/// <param name="Subject">The token's <c>sub</c>.</param>
/// <param name="Issuer">The token's <c>iss</c>.</param>
/// <param name="Audiences">The token's audiences.</param>
/// <param name="Scopes">The token's scopes.</param>
/// <param name="EffectiveToken">The token to send downstream (exchanged or original). Never log it.</param>
/// <param name="Exchanged">True when the effective token came from a token exchange.</param>
/// <param name="ClusterUser">The user the (first) target cluster's TokenReview returned, when one ran.</param>
/// <param name="ClusterUsers">The users each reviewed target returned.</param>
public sealed record McpPrincipal(
    string? Subject,
    string? Issuer,
    IReadOnlyList<string> Audiences,
    IReadOnlyList<string> Scopes,
    string EffectiveToken,
    bool Exchanged,
    ClusterUser? ClusterUser,
    IReadOnlyDictionary<string, ClusterUser> ClusterUsers)
{
    /// <inheritdoc />
    public override string ToString() => $"McpPrincipal {{ Subject = {Subject}, Issuer = {Issuer}, Exchanged = {Exchanged} }}";
}

/// <summary>A user as a Kubernetes API server sees it (TokenReview <c>status.user</c>).</summary>
public sealed record ClusterUser(
    string Username,
    string? Uid,
    IReadOnlyList<string> Groups,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Extra);
