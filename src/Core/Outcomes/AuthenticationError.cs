namespace McpAuth;

/// <summary>A refusal, safe to show to the client.</summary>
/// <param name="Code">The error class.</param>
/// <param name="Description">A short description that contains no token, secret or internal detail.</param>
/// <param name="Stage">The name of the stage that decided (see <see cref="Behaviors.StageName"/>).</param>
/// <param name="RequiredScopes">For <see cref="AuthenticationErrorCode.InsufficientScope"/>: every scope needed.</param>
public sealed record AuthenticationError(
    AuthenticationErrorCode Code,
    string Description,
    string Stage,
    IReadOnlyList<string>? RequiredScopes = null);
