using System.Diagnostics;
using McpAuth.Diagnostics;

namespace McpAuth.Behaviors;

/// <summary>Stage names (as reported in <see cref="AuthenticationError.Stage"/>) and the refusal helper they share.</summary>
public static class Stage
{
    /// <summary>Stage 0: the exception guard.</summary>
    public const string Guard = "Guard";
    /// <summary>Stage 1.</summary>
    public const string ParseBearerToken = "ParseBearerToken";
    /// <summary>Stage 2.</summary>
    public const string OfflineValidation = "OfflineValidation";
    /// <summary>Stage 3.</summary>
    public const string OidcProviderValidation = "OidcProviderValidation";
    /// <summary>Stage 4.</summary>
    public const string TokenExchange = "TokenExchange";
    /// <summary>Stage 5.</summary>
    public const string TokenReview = "TokenReview";
    /// <summary>Stage 6.</summary>
    public const string RequiredScopes = "RequiredScopes";
    /// <summary>Stage 7.</summary>
    public const string ToolScopes = "ToolScopes";

    /// <summary>Tags a stage's span with the outcome "passed" (or another word, e.g. "cached").</summary>
    internal static void Pass(Activity? activity, string outcome = "passed") => activity?.SetTag("mcpauth.outcome", outcome);

    internal static AuthenticationOutcome Fail(
        Activity? activity, string stage, AuthenticationErrorCode code, string description, IReadOnlyList<string>? scopes = null)
    {
        activity?.SetTag("mcpauth.outcome", code.ToString());
        McpAuthDiagnostics.Outcomes.Add(1, new("outcome", code.ToString()), new("stage", stage));
        return AuthenticationOutcome.Failure(code, description, stage, scopes);
    }
}
