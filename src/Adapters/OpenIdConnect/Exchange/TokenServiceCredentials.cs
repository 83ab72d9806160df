using System.Net.Http.Headers;
using System.Text;
using Duende.IdentityModel.Client;

namespace McpAuth.OpenIdConnect.Exchange;

/// <summary>
/// How McpAuth authenticates to the token service (<see cref="TokenExchangeOptions.StsClientAuth"/>), applied to a
/// Duende.IdentityModel request: <c>client_secret_post</c> and the two assertion methods through its
/// <see cref="ProtocolRequest"/> (<c>ClientCredentialStyle.PostBody</c>, <see cref="ClientAssertion"/>);
/// <c>client_secret_basic</c> as the original sends it (id and secret each percent-encoded with
/// <see cref="Uri.EscapeDataString(string)"/>, RFC 6749 §2.3.1, which every server decodes alike; Duende's own Basic
/// encoding turns spaces into <c>+</c>). Secrets and keys are read from configuration or files and never logged.
/// </summary>
internal sealed class TokenServiceCredentials
{
    private readonly string? _clientId;
    private readonly string? _secret;
    private readonly CredentialFile? _secretFile;
    private readonly CredentialFile? _assertionFile;
    private readonly ClientAssertionSigner? _signer;

    public TokenServiceCredentials(TokenExchangeOptions options, string? clientId, TimeProvider time)
    {
        _clientId = string.IsNullOrEmpty(clientId) ? null : clientId;
        _secret = string.IsNullOrEmpty(options.StsClientSecret) ? null : options.StsClientSecret;
        _secretFile = string.IsNullOrEmpty(options.StsClientSecretFile) ? null : new CredentialFile(options.StsClientSecretFile, time);
        _assertionFile = string.IsNullOrEmpty(options.StsClientAssertionFile) ? null : new CredentialFile(options.StsClientAssertionFile, time);
        _signer = string.IsNullOrEmpty(options.StsClientKeyFile)
            ? null
            : new ClientAssertionSigner(options.StsClientKeyFile, options.StsClientKeyId, options.StsClientSigningAlgorithm, time);
        Method = MethodOf(options);
    }

    /// <summary>The method in use: one of <see cref="StsClientAuthMethods"/>, or <c>none</c> for a public client.</summary>
    public string Method { get; }

    /// <summary>The method <paramref name="options"/> select (explicitly, or by the credential they configure).</summary>
    public static string MethodOf(TokenExchangeOptions options) =>
        !string.IsNullOrEmpty(options.StsClientAuth) ? options.StsClientAuth
        : !string.IsNullOrEmpty(options.StsClientSecret) || !string.IsNullOrEmpty(options.StsClientSecretFile) ? StsClientAuthMethods.ClientSecretBasic
        : !string.IsNullOrEmpty(options.StsClientKeyFile) ? StsClientAuthMethods.PrivateKeyJwt
        : !string.IsNullOrEmpty(options.StsClientAssertionFile) ? StsClientAuthMethods.FederatedAssertion
        : "none";

    /// <summary>
    /// Authenticates <paramref name="request"/> to <paramref name="endpoint"/>. Returns null, or what is wrong with our
    /// own credential (for the log; the exchange is then unavailable, never sent unauthenticated).
    /// <paramref name="clientIdWithKeyAssertion"/>: send <c>client_id</c> next to a <c>private_key_jwt</c> assertion
    /// (Keycloak's documentation says not to; RFC 7521 §4.2 makes it optional). <paramref name="clientIdWithBasic"/>: send
    /// <c>client_id</c> in the form next to the Basic header too (Entra ID documents it as required in every request).
    /// </summary>
    public string? Apply(ProtocolRequest request, string endpoint, bool clientIdWithKeyAssertion = true, bool clientIdWithBasic = false)
    {
        request.ClientCredentialStyle = ClientCredentialStyle.PostBody;
        switch (Method)
        {
            case StsClientAuthMethods.ClientSecretBasic:
            {
                var secret = Secret(out var problem);
                if (secret is null)
                {
                    return problem;
                }

                // RFC 6749 §2.3.1: id and secret are form-encoded, then joined and base64-encoded.
                var credentials = $"{Uri.EscapeDataString(_clientId ?? string.Empty)}:{Uri.EscapeDataString(secret)}";
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
                if (clientIdWithBasic)
                {
                    request.ClientId = _clientId!; // PostBody style without a secret: client_id alone in the form
                }

                return null;
            }

            case StsClientAuthMethods.ClientSecretPost:
            {
                var secret = Secret(out var problem);
                if (secret is null)
                {
                    return problem;
                }

                request.ClientId = _clientId!;
                request.ClientSecret = secret;
                return null;
            }

            case StsClientAuthMethods.PrivateKeyJwt:
            {
                var assertion = _signer!.Create(_clientId!, endpoint, out var problem);
                if (assertion is null)
                {
                    return "McpAuth:StsClientKeyFile " + problem;
                }

                request.ClientId = clientIdWithKeyAssertion ? _clientId! : null!;
                request.ClientAssertion = new ClientAssertion { Type = StsClientAuthMethods.JwtBearerAssertionType, Value = assertion };
                return null;
            }

            case StsClientAuthMethods.FederatedAssertion:
            {
                var assertion = _assertionFile!.ReadToken(requireJwt: true, out var problem);
                if (assertion is null)
                {
                    return "McpAuth:StsClientAssertionFile " + problem;
                }

                // The platform's token names the workload, not the client: client_id says which client it stands for.
                request.ClientId = _clientId!;
                request.ClientAssertion = new ClientAssertion { Type = StsClientAuthMethods.JwtBearerAssertionType, Value = assertion };
                return null;
            }

            default:
                request.ClientId = _clientId!; // a public client (RFC 6749 §3.2.1): client_id in the form
                return null;
        }
    }

    private string? Secret(out string? problem)
    {
        problem = null;
        if (_secret is not null)
        {
            return _secret;
        }

        var secret = _secretFile?.Read(out problem);
        problem = secret is null ? "McpAuth:StsClientSecretFile " + (problem ?? "is not set") : null;
        return secret;
    }
}
