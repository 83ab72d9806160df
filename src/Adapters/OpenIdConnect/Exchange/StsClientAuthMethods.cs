namespace McpAuth.OpenIdConnect.Exchange;

/// <summary>The values of <see cref="TokenExchangeOptions.StsClientAuth"/>: how McpAuth authenticates to the token service.</summary>
public static class StsClientAuthMethods
{
    /// <summary>RFC 6749 §2.3.1: id and secret in an <c>Authorization: Basic</c> header.</summary>
    public const string ClientSecretBasic = "client_secret_basic";

    /// <summary>RFC 6749 §2.3.1: <c>client_id</c> and <c>client_secret</c> in the form.</summary>
    public const string ClientSecretPost = "client_secret_post";

    /// <summary>RFC 7523 §2.2: a JWT signed with the client's key (<see cref="TokenExchangeOptions.StsClientKeyFile"/>) for each request.</summary>
    public const string PrivateKeyJwt = "private_key_jwt";

    /// <summary>RFC 7521: a JWT the platform issued (<see cref="TokenExchangeOptions.StsClientAssertionFile"/>), e.g. workload identity federation.</summary>
    public const string FederatedAssertion = "federated_assertion";

    /// <summary>RFC 7521 §4.2: the <c>client_assertion_type</c> of both assertion methods.</summary>
    public const string JwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    /// <summary>Every method.</summary>
    public static IReadOnlyList<string> All { get; } = [ClientSecretBasic, ClientSecretPost, PrivateKeyJwt, FederatedAssertion];
}
