namespace McpAuth.Ports;

/// <summary>Exchanges the caller's token for one meant for the downstream API (RFC 8693).</summary>
public interface ITokenExchangeClient
{
    /// <summary>Exchanges <paramref name="subjectToken"/>.</summary>
    /// <param name="subjectToken">The caller's (verified) token. Never log it.</param>
    /// <param name="subjectExpiresAt">When the subject token expires, when known (bounds how long a result may be reused).</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    ValueTask<TokenExchangeResult> ExchangeAsync(string subjectToken, DateTimeOffset? subjectExpiresAt, CancellationToken cancellationToken);
}
