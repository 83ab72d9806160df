using McpAuth.Tokens;

namespace McpAuth.Ports;

/// <summary>
/// The default registrations of the ports: they fail closed (Unavailable) and say which adapter to add. A host replaces
/// them with <c>AddOidcProvider()</c>, <c>AddTokenIntrospection()</c>, <c>AddTokenExchange()</c>, <c>AddKubernetesTokenReview()</c> or its own.
/// </summary>
internal sealed class NotConfiguredOidcTokenValidator : IOidcTokenValidator
{
    public ValueTask<OidcValidationResult> ValidateAsync(ParsedToken token, CancellationToken cancellationToken) =>
        ValueTask.FromResult(OidcValidationResult.Unavailable("No OIDC validator is registered (call AddOidcProvider())."));
}

/// <inheritdoc cref="NotConfiguredOidcTokenValidator"/>
internal sealed class NotConfiguredTokenIntrospector : ITokenIntrospector
{
    public ValueTask<IntrospectionResult> IntrospectAsync(ParsedToken token, CancellationToken cancellationToken) =>
        ValueTask.FromResult(IntrospectionResult.Unavailable("No token introspector is registered (call AddTokenIntrospection())."));
}

/// <inheritdoc cref="NotConfiguredOidcTokenValidator"/>
internal sealed class NotConfiguredTokenExchangeClient : ITokenExchangeClient
{
    public ValueTask<TokenExchangeResult> ExchangeAsync(string subjectToken, DateTimeOffset? subjectExpiresAt, CancellationToken cancellationToken) =>
        ValueTask.FromResult(TokenExchangeResult.Unavailable("No token exchange client is registered (call AddTokenExchange())."));
}

/// <inheritdoc cref="NotConfiguredOidcTokenValidator"/>
internal sealed class NotConfiguredTokenReviewClient : ITokenReviewClient
{
    public ValueTask<TokenReviewResult> ReviewAsync(TokenReviewRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(TokenReviewResult.Unavailable("No TokenReview client is registered (call AddKubernetesTokenReview())."));
}
