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
