using System.Globalization;
using System.Text;

namespace McpAuth.Host;

/// <summary>
/// The host's flags, each also settable as <c>McpAuth:&lt;Name&gt;</c> in appsettings.json or <c>McpAuth__&lt;Name&gt;</c>
/// in the environment. Boolean flags work bare (<c>--require-oauth</c>); lists are comma-separated.
/// </summary>
internal static class CommandLine
{
    private sealed record Flag(string Name, string Key, string Kind, string Default, string Help);

    private static readonly Flag[] Flags =
    [
        new("port", "Port", "int", "8080", "Port to listen on."),
        new("bind-address", "BindAddress", "string", "127.0.0.1", "Address to listen on."),
        new("require-oauth", "RequireOAuth", "bool", "false", "Require a bearer token on the MCP endpoint (off: nothing is checked)."),
        new("oauth-audience", "Audience", "string", "", "Audience tokens must carry (default: <server-url><mcp-path> when --server-url is set)."),
        new("accept-any-audience", "AcceptAnyAudience", "bool", "false", "INSECURE: accept tokens for any audience (an issuer that sets none)."),
        new("validate-token", "ValidateToken", "bool", "false", "Review every token with a Kubernetes TokenReview on the target cluster."),
        new("authorization-url", "AuthorizationUrl", "string", "", "OAuth/OIDC issuer URL: verify signatures with its published keys."),
        new("certificate-authority", "CertificateAuthority", "string", "", "PEM file: the only trust roots for the issuer and token-service connections."),
        new("server-url", "ServerUrl", "string", "", "This server's public base URL (resource = <server-url><mcp-path>)."),
        new("mcp-path", "McpPath", "string", "/mcp", "Path of the MCP endpoint."),
        new("kubeconfig", "Kubeconfig", "string", "", "Kubeconfig file (default: KUBECONFIG, else in-cluster)."),
        new("introspection-client-id", "IntrospectionClientId", "string", "", "RFC 7662 introspection: this server's client id at the issuer; accepts opaque (non-JWT) access tokens and asks the issuer about them."),
        new("introspection-client-secret", "IntrospectionClientSecret", "string", "", "RFC 7662 introspection: client secret."),
        new("introspection-client-secret-file", "IntrospectionClientSecretFile", "string", "", "RFC 7662 introspection: file holding the client secret (read at each call)."),
        new("introspection-endpoint", "IntrospectionEndpoint", "string", "", "RFC 7662 introspection: endpoint (default: the issuer's introspection_endpoint)."),
        new("sts-client-id", "StsClientId", "string", "", "Token exchange: this server's client id at the token service (with --sts-audience and an issuer, turns the exchange on)."),
        new("sts-client-secret", "StsClientSecret", "string", "", "Token exchange: client secret (client_secret_basic/post)."),
        new("sts-audience", "StsAudience", "string", "", "Token exchange: audience of the exchanged token."),
        new("sts-scopes", "StsScopes", "list", "", "Token exchange: scopes (comma-separated; required with entra-obo)."),
        new("sts-token-url", "StsTokenUrl", "string", "", "Token exchange: token endpoint (default: from discovery)."),
        new("sts-strategy", "StsStrategy", "string", "rfc8693", "Token exchange strategy: rfc8693, entra-obo (Microsoft Entra ID on-behalf-of) or keycloak (Keycloak standard token exchange)."),
        new("sts-client-auth", "StsClientAuth", "string", "", "Token exchange client authentication: client_secret_basic, client_secret_post, private_key_jwt or federated_assertion (default: from the credential set)."),
        new("sts-client-secret-file", "StsClientSecretFile", "string", "", "Token exchange: file holding the client secret (read at each exchange)."),
        new("sts-client-key-file", "StsClientKeyFile", "string", "", "Token exchange, private_key_jwt: private key file (PEM, optionally with its certificate, or JWK) that signs the client assertions."),
        new("sts-client-key-id", "StsClientKeyId", "string", "", "Token exchange, private_key_jwt: kid of the client assertions (default: the JWK's kid, else its RFC 7638 thumbprint)."),
        new("sts-client-signing-algorithm", "StsClientSigningAlgorithm", "string", "", "Token exchange, private_key_jwt: algorithm of the client assertions (default: RS256 for RSA, ES256/384/512 by curve)."),
        new("sts-client-assertion-file", "StsClientAssertionFile", "string", "", "Token exchange, federated_assertion: file with the platform-issued JWT sent as client assertion (re-read at each exchange; never sent past its exp)."),
        new("sts-actor-token-file", "StsActorTokenFile", "string", "", "RFC 8693 token exchange: file with this server's own token, sent as actor_token (delegation, act claim)."),
        new("sts-actor-token-type", "StsActorTokenType", "string", "urn:ietf:params:oauth:token-type:jwt", "RFC 8693 token exchange: actor_token_type of --sts-actor-token-file."),
        new("required-scopes", "RequiredScopes", "list", "", "Scopes every token must carry (comma-separated)."),
        new("tool-scopes", "ToolScopes", "map", "", "Step-up scopes per tool: tool=scope1,scope2;other=scope3."),
        new("allowed-origins", "AllowedOrigins", "list", "", "Browser origins allowed on the MCP endpoint (default: own origin; loopback on a loopback connection)."),
        new("dpop", "Dpop", "dpop", "off", "DPoP-bound tokens (RFC 9449): off, allowed (next to Bearer) or required."),
        new("shared-cache", "SharedCache", "string", "", "Redis configuration string: share exchanges and reviews between replicas (needs McpAuth:SharedCacheKey, a secret: set it in the environment, not on the command line)."),
        new("realm", "Realm", "string", HostDefaults.Realm, "Realm of the WWW-Authenticate challenge."),
        new("max-body-bytes", "MaxBodyBytes", "int", "16777216", "Largest MCP request body (larger: 413)."),
        new("skip-jwt-verification", "SkipJwtVerification", "bool", "false", "INSECURE, development only: accept tokens nobody verifies."),
        new("demo", "Demo", "bool", "false", "Development only: an in-process OAuth authorization server (OpenIddict) for real MCP clients, and a token and curl command."),
        new("demo-auto-approve", "DemoAutoApprove", "bool", "false", "With --demo: give consent without showing the consent page (tests)."),
        new("demo-dpop", "DemoDpop", "bool", "false", "With --demo: a token request with a DPoP proof gets a DPoP-bound token (RFC 9449), and McpAuth accepts DPoP next to Bearer."),
        new("demo-opaque", "DemoOpaque", "bool", "false", "With --demo: clients get opaque reference tokens, which McpAuth checks by RFC 7662 introspection at the demo server."),
        new("demo-exchange", "DemoExchange", "bool", "false", "With --demo: turn on RFC 8693 token exchange (McpAuth exchanges every token at the demo server)."),
    ];

    /// <summary>
    /// Rewrites configuration keys in a message (<c>McpAuth:Audience</c>) as the flags that set them
    /// (<c>--oauth-audience (McpAuth:Audience)</c>), so a refusal at start speaks the host's language.
    /// </summary>
    public static string NameFlags(string message)
    {
        foreach (var flag in Flags.OrderByDescending(f => f.Key.Length))
        {
            message = System.Text.RegularExpressions.Regex.Replace(
                message, $@"(?<![\w-]){System.Text.RegularExpressions.Regex.Escape("McpAuth:" + flag.Key)}(?![\w])", $"--{flag.Name} (McpAuth:{flag.Key})");
        }

        return message;
    }

    /// <summary>Turns the arguments into configuration keys. Returns an error message for an unknown flag or a bad value.</summary>
    public static string? Parse(string[] args, IDictionary<string, string?> settings, out bool help)
    {
        help = false;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h")
            {
                help = true;
                return null;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                return $"unexpected argument '{arg}' (see --help)";
            }

            var name = arg[2..];
            string? value = null;
            var eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }

            var flag = Array.Find(Flags, f => f.Name == name);
            if (flag is null)
            {
                return $"unknown flag --{name} (see --help)";
            }

            if (value is null)
            {
                if (flag.Kind == "bool" && (i + 1 >= args.Length || !bool.TryParse(args[i + 1], out _)))
                {
                    value = "true";
                }
                else if (i + 1 < args.Length)
                {
                    value = args[++i];
                }
                else
                {
                    return $"--{name} needs a value";
                }
            }

            var key = "McpAuth:" + flag.Key;
            switch (flag.Kind)
            {
                case "bool" when !bool.TryParse(value, out _):
                    return $"--{name} takes true or false, not '{value}'";
                case "int" when !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _):
                    return $"--{name} takes a whole number, not '{value}'";
                case "dpop" when !Enum.TryParse<DpopMode>(value, ignoreCase: true, out var mode) || !Enum.IsDefined(mode) || value.Any(char.IsDigit):
                    return $"--{name} takes off, allowed or required, not '{value}'";
                case "list":
                    var items = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    for (var n = 0; n < items.Length; n++)
                    {
                        settings[$"{key}:{n}"] = items[n];
                    }

                    continue;
                case "map":
                    foreach (var entry in value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        var parts = entry.Split('=', 2, StringSplitOptions.TrimEntries);
                        if (parts.Length != 2 || parts[0].Length == 0)
                        {
                            return $"--{name} takes tool=scope1,scope2;other=scope3, not '{value}'";
                        }

                        var scopes = parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                        for (var n = 0; n < scopes.Length; n++)
                        {
                            settings[$"{key}:{parts[0]}:{n}"] = scopes[n];
                        }
                    }

                    continue;
            }

            settings[key] = value;
        }

        return null;
    }

    public static string Help()
    {
        var text = new StringBuilder("McpAuth host: an MCP server (tool 'whoami') protected by the McpAuth pipeline.\n\nUsage: McpAuth.Host [flags]\n\nFlags (each also McpAuth:<Name> in appsettings.json or McpAuth__<Name> in the environment):\n");
        foreach (var f in Flags)
        {
            var def = f.Default.Length == 0 ? "" : $" (default {f.Default})";
            text.Append(CultureInfo.InvariantCulture, $"  --{f.Name,-24} {f.Help}{def}\n");
        }

        return text.ToString();
    }
}
