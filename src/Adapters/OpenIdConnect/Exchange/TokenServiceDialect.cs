using System.Net;
using System.Text.Json;
using Duende.IdentityModel.Client;

namespace McpAuth.OpenIdConnect.Exchange;

/// <summary>What one token service strategy does differently: the request it sends, and how it reads a refusal.</summary>
internal abstract class TokenServiceDialect
{
    /// <summary>The strategy's name (<see cref="TokenExchangeStrategies"/>), for logs.</summary>
    public abstract string Name { get; }

    /// <summary>Whether <c>client_id</c> goes next to a <c>private_key_jwt</c> assertion.</summary>
    public virtual bool ClientIdWithKeyAssertion => true;

    /// <summary>Whether <c>client_id</c> also goes in the form with <c>client_secret_basic</c> (the header names the client already).</summary>
    public virtual bool ClientIdWithBasic => false;

    /// <summary>The statuses whose OAuth error means the token service refused the subject token (others: unavailable).</summary>
    public virtual bool IsRefusal(HttpStatusCode status) => status is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized;

    /// <summary>The request for <paramref name="subjectToken"/> at <paramref name="endpoint"/>, or null with <paramref name="problem"/> (our own configuration cannot be used now).</summary>
    public abstract ProtocolRequest? Build(string endpoint, string subjectToken, out string? problem);

    /// <summary>Sends <paramref name="request"/> with Duende.IdentityModel.</summary>
    public abstract Task<TokenResponse> SendAsync(HttpMessageInvoker invoker, ProtocolRequest request, CancellationToken cancellationToken);

    /// <summary>What to log about a refusal besides its <c>error</c> (null: nothing). Never a token or a free-text description.</summary>
    public virtual string? Details(JsonElement error) => null;
}
