using System.Collections.Immutable;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace McpAuth.Host.Demo;

/// <summary>
/// <c>--demo</c>: a development OAuth 2.1 authorization server inside the host, on the same loopback port under
/// <c>/demo-issuer</c>, built on OpenIddict with its store in an in-memory SQLite database and keys made at start.
/// It is what a real MCP client needs to finish the whole flow against the demo: RFC 8414 metadata (also at the
/// OIDC path McpAuth discovers), authorization code with PKCE S256 only, refresh tokens (rotated; a reused one revokes
/// the grant), RFC 8707 resource indicators (the token's <c>aud</c> is the requested resource), dynamic client
/// registration (RFC 7591) and Client ID Metadata Documents for public clients with loopback or custom-scheme redirect
/// URIs, a consent page, and, with <c>--demo-exchange</c>, the RFC 8693 token-exchange grant for McpAuth's exchange
/// stage. Access tokens are JWTs (<c>typ</c> at+jwt, RS256, not encrypted). Never for production: the host refuses
/// <c>--demo</c> on a non-loopback bind.
/// </summary>
public sealed class DemoAuthorizationServer : IDisposable
{
    /// <summary>The path of the issuer on the host.</summary>
    public const string PathBase = "/demo-issuer";

    /// <summary>The scope every MCP request needs (McpAuth <c>RequiredScopes</c>).</summary>
    public const string ReadScope = "mcp:read";

    /// <summary>The step-up scope the admin tool needs (McpAuth <c>ToolScopes</c>).</summary>
    public const string AdminScope = "mcp:admin";

    /// <summary>The one user.</summary>
    public const string Subject = "demo-user";


    /// <summary>The audience of exchanged tokens, with <c>--demo-exchange</c>.</summary>
    public const string ExchangeAudience = "demo-downstream";

    /// <summary>Every scope the demo knows; <c>offline_access</c> asks for a refresh token.</summary>
    public static readonly ImmutableArray<string> Scopes = [ReadScope, AdminScope, OpenIddictConstants.Scopes.OfflineAccess];

    private readonly SqliteConnection _keepAlive;
    private readonly byte[] _consentKey = RandomNumberGenerator.GetBytes(32);

    /// <summary>Creates the server for a host at <paramref name="baseUrl"/> whose MCP endpoint is <paramref name="resource"/>.</summary>
    public DemoAuthorizationServer(string baseUrl, string resource, bool autoApprove, bool exchange, bool opaque = false, bool dpop = false)
    {
        BaseUrl = baseUrl.TrimEnd('/');
        Issuer = BaseUrl + PathBase;
        Resource = resource;
        AutoApprove = autoApprove;
        Exchange = exchange;
        Opaque = opaque;
        Dpop = dpop;
        ExchangeClientSecret = exchange || opaque ? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)) : null;
        // One database per server, in memory, shared by this process's connections; it lives while one stays open.
        ConnectionString = $"Data Source=mcpauth-demo-{Guid.NewGuid():N};Mode=Memory;Cache=Shared";
        _keepAlive = new SqliteConnection(ConnectionString);
        _keepAlive.Open();
    }

    /// <summary>The host's base URL.</summary>
    public string BaseUrl { get; }

    /// <summary>The issuer (<c>&lt;base&gt;/demo-issuer</c>), McpAuth's <c>AuthorizationUrl</c>.</summary>
    public string Issuer { get; }

    /// <summary>The MCP endpoint: the one resource tokens are issued for.</summary>
    public string Resource { get; }

    /// <summary><c>--demo-auto-approve</c>: consent is given without showing the page (tests).</summary>
    public bool AutoApprove { get; }

    /// <summary><c>--demo-exchange</c>: the token-exchange grant is on and McpAuth's exchange stage uses it.</summary>
    public bool Exchange { get; }

    /// <summary>
    /// <c>--demo-opaque</c>: access tokens are opaque reference tokens (OpenIddict keeps their content in its store) and
    /// McpAuth asks the server's RFC 7662 introspection endpoint about them, as the MCP server client.
    /// </summary>
    public bool Opaque { get; }

    /// <summary>
    /// <c>--demo-dpop</c>: a token request with a DPoP proof gets a token bound to the proof's key (<c>cnf.jkt</c>), and
    /// McpAuth accepts DPoP next to Bearer.
    /// </summary>
    public bool Dpop { get; }

    /// <summary>
    /// The client McpAuth's exchange stage authenticates as, with <c>--demo-exchange</c>: the MCP server itself, named by
    /// its resource URL. OpenIddict exchanges a subject token only for a client it was issued to or for (its audience),
    /// and the clients' tokens are for this resource.
    /// </summary>
    public string ExchangeClientId => Resource;

    /// <summary>
    /// The client McpAuth introspects as, with <c>--demo-opaque</c>: again the MCP server itself, since OpenIddict answers
    /// "active" only to a client the token was issued for or to (its audience, the resource).
    /// </summary>
    public string IntrospectionClientId => Resource;

    /// <summary>The MCP server client's secret (exchange and introspection), made at start (null without <c>--demo-exchange</c> or <c>--demo-opaque</c>).</summary>
    public string? ExchangeClientSecret { get; }

    internal string ConnectionString { get; }

    /// <summary>Serializes creating or updating clients from metadata documents.</summary>
    internal SemaphoreSlim ClientStoreLock { get; } = new(1, 1);

    /// <summary>
    /// Log levels for the demo's libraries, before the user's configuration: EF Core's SQL and OpenIddict's per-request
    /// lines at Warning (OpenIddict's request lines name parameters a client sent).
    /// </summary>
    public static Dictionary<string, string?> LoggingDefaults() => new()
    {
        ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Warning",
        ["Logging:LogLevel:OpenIddict"] = "Warning",
    };

    /// <summary>The McpAuth settings the demo implies (the host adds them under its own).</summary>
    public Dictionary<string, string?> McpAuthSettings() => new()
    {
        ["McpAuth:AuthorizationUrl"] = Issuer,
        ["McpAuth:RequiredScopes:0"] = ReadScope,
        [$"McpAuth:ToolScopes:{AdminActionTool.Name}:0"] = AdminScope,
        ["McpAuth:StsClientId"] = Exchange ? ExchangeClientId : null,
        ["McpAuth:StsClientSecret"] = Exchange ? ExchangeClientSecret : null,
        ["McpAuth:StsAudience"] = Exchange ? ExchangeAudience : null,
        ["McpAuth:StsScopes:0"] = Exchange ? ReadScope : null,
        ["McpAuth:IntrospectionClientId"] = Opaque ? IntrospectionClientId : null,
        ["McpAuth:Dpop"] = Dpop ? "allowed" : null,
        ["McpAuth:IntrospectionClientSecret"] = Opaque ? ExchangeClientSecret : null,
    };

    /// <summary>What a scope lets a client do, for the consent page.</summary>
    public static string Describe(string scope) => scope switch
    {
        ReadScope => ": use the MCP server (whoami)",
        AdminScope => ": run admin-action (step-up)",
        OpenIddictConstants.Scopes.OfflineAccess => ": stay signed in (refresh token)",
        _ => string.Empty,
    };

    /// <summary>Registers OpenIddict (server and EF Core store) and the demo's own parts.</summary>
    public void AddServices(IServiceCollection services)
    {
        services.AddSingleton(_ => this); // made by a factory, so the container disposes it (the in-memory database)
        services.AddHttpClient(DemoClientRegistration.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, UseProxy = false });
        services.AddDbContext<DemoDbContext>(o =>
        {
            o.UseSqlite(ConnectionString);
            o.UseOpenIddict();
        });
        services.AddOpenIddict()
            .AddCore(o => o.UseEntityFrameworkCore().UseDbContext<DemoDbContext>())
            .AddServer(o =>
            {
                o.SetIssuer(new Uri(Issuer));
                // Relative to the host's root. The OIDC path is the one McpAuth discovers first; the RFC 8414 one is
                // where MCP clients look first for an issuer with a path.
                o.SetConfigurationEndpointUris("demo-issuer/.well-known/openid-configuration", ".well-known/oauth-authorization-server/demo-issuer");
                o.SetAuthorizationEndpointUris("demo-issuer/authorize");
                o.SetTokenEndpointUris("demo-issuer/token");
                o.SetJsonWebKeySetEndpointUris("demo-issuer/jwks");
                if (Opaque)
                {
                    // RFC 7662: McpAuth learns about a reference token only here.
                    o.SetIntrospectionEndpointUris("demo-issuer/introspect");
                    o.UseReferenceAccessTokens();
                }

                o.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
                o.AllowRefreshTokenFlow();
                o.SetRefreshTokenReuseLeeway(TimeSpan.Zero); // a rotated refresh token used again revokes the grant
                o.RegisterScopes([.. Scopes]);
                o.RegisterResources(Resource);
                if (Exchange)
                {
                    o.AllowTokenExchangeFlow();
                    o.RegisterAudiences(ExchangeAudience);
                }

                // Keys made at start and gone at exit. Access tokens are plain signed JWTs, for McpAuth to verify.
                o.AddEphemeralEncryptionKey().AddSigningKey(new RsaSecurityKey(RSA.Create(2048)));
                o.DisableAccessTokenEncryption();
                o.SetAccessTokenLifetime(TimeSpan.FromHours(1));
                o.Configure(options => options.CodeChallengeMethods.Remove(CodeChallengeMethods.Plain)); // S256 only

                o.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .DisableTransportSecurityRequirement(); // loopback http: the host refuses --demo elsewhere

                o.AddEventHandler(DemoClientRegistration.MetadataDocumentHandler.Descriptor);
                o.AddEventHandler<HandleConfigurationRequestContext>(b => b.UseInlineHandler(context =>
                {
                    context.Metadata["registration_endpoint"] = Issuer + "/register";
                    context.Metadata["client_id_metadata_document_supported"] = true;
                    context.TokenEndpointAuthenticationMethods.Add(ClientAuthenticationMethods.None);
                    if (Dpop)
                    {
                        context.Metadata["dpop_signing_alg_values_supported"] = new OpenIddictParameter(System.Collections.Immutable.ImmutableArray.Create<string?>("ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"));
                    }

                    return default;
                }));
                if (Exchange)
                {
                    o.AddEventHandler<HandleTokenRequestContext>(b => b.UseScopedHandler<DemoTokenExchange>());
                }

                if (Dpop)
                {
                    DemoDpop.Register(o, Issuer + "/token", new McpAuth.Dpop.DpopProofValidator(Options.Create(new McpAuthOptions()), TimeProvider.System));
                }
            });
    }

    /// <summary>
    /// DNS rebinding: a request to the authorization server whose <c>Host</c> is neither a loopback name nor the host of
    /// the server's own URLs is refused (403) before OpenIddict or the consent page sees it, so a web page whose name
    /// was pointed at 127.0.0.1 cannot read the consent page or register clients. (McpAuth does the same for the MCP
    /// endpoint.)
    /// </summary>
    public void UseHostCheck(IApplicationBuilder app)
    {
        var own = new HashSet<string>([new Uri(BaseUrl).Host, new Uri(Resource).Host], StringComparer.OrdinalIgnoreCase);
        app.Use((context, next) =>
        {
            var path = context.Request.Path;
            if (!path.StartsWithSegments(PathBase) && !path.StartsWithSegments("/.well-known/oauth-authorization-server" + PathBase))
            {
                return next(context);
            }

            var host = context.Request.Host.Host;
            var loopback = host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
                           || (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var address) && System.Net.IPAddress.IsLoopback(address));
            if (loopback || own.Contains(host) || own.Contains($"[{host.Trim('[', ']')}]"))
            {
                return next(context);
            }

            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            context.Response.Headers.CacheControl = "no-store";
            return context.Response.WriteAsJsonAsync(new Dictionary<string, string>
            {
                ["error"] = "forbidden_host",
                ["error_description"] = "The demo authorization server answers only on loopback names and its own host.",
            });
        });
    }

    /// <summary>Creates the store and the exchange client, and maps the consent and registration endpoints.</summary>
    public void Map(WebApplication app)
    {
        using (var scope = app.Services.CreateScope())
        {
            scope.ServiceProvider.GetRequiredService<DemoDbContext>().Database.EnsureCreated();
            if (Exchange || Opaque)
            {
                var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
                var client = new OpenIddictApplicationDescriptor
                {
                    ClientId = ExchangeClientId,
                    ClientSecret = ExchangeClientSecret,
                    ClientType = ClientTypes.Confidential,
                    DisplayName = "McpAuth (the MCP server itself)",
                };
                if (Exchange)
                {
                    client.Permissions.UnionWith([
                        Permissions.Endpoints.Token, Permissions.GrantTypes.TokenExchange,
                        Permissions.Prefixes.Audience + ExchangeAudience, Permissions.Prefixes.Scope + ReadScope]);
                }

                if (Opaque)
                {
                    client.Permissions.Add(Permissions.Endpoints.Introspection);
                }

                applications.CreateAsync(client).AsTask().GetAwaiter().GetResult();
            }
        }

        app.MapMethods(PathBase + "/authorize", [HttpMethods.Get, HttpMethods.Post], DemoConsent.AuthorizeAsync).AllowAnonymous();
        app.MapPost(PathBase + "/register", DemoClientRegistration.RegisterAsync).AllowAnonymous();
    }

    /// <summary>
    /// The curl quick start's token: an access token shaped exactly like the ones OpenIddict issues (at+jwt, issuer,
    /// audience = the MCP endpoint, <c>scope</c>, <c>client_id</c>, <c>jti</c>) and signed with the server's own
    /// signing key, so it needs no client or browser. A development shortcut, printed only by <c>--demo</c>.
    /// </summary>
    public string CreateAccessToken(IServiceProvider services, IEnumerable<string> scopes, TimeSpan lifetime)
    {
        var options = services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue;
        var credentials = options.SigningCredentials.First(c => c.Key is AsymmetricSecurityKey);
        var now = services.GetService<TimeProvider>()?.GetUtcNow() ?? TimeProvider.System.GetUtcNow();
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Resource,
            Subject = UserIdentity(Subject),
            Claims = new Dictionary<string, object>
            {
                [Claims.Scope] = string.Join(' ', scopes),
                [Claims.ClientId] = "mcpauth-demo-banner",
                [Claims.JwtId] = Guid.NewGuid().ToString(),
            },
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + lifetime).UtcDateTime,
            TokenType = JsonWebTokenTypes.AccessToken,
            SigningCredentials = credentials,
        });
    }

    /// <summary>The banner printed at start.</summary>
    public string Banner(string token)
    {
        const string call = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"whoami\",\"arguments\":{}}}";
        string?[] lines =
        [
            "",
            "==================== DEVELOPMENT ONLY ====================",
            $"McpAuth demo: an MCP server at {Resource} protected by McpAuth, with an OAuth authorization server at {Issuer}",
            "(OpenIddict; loopback only; keys made at start; clients, grants and tokens in memory, gone at exit).",
            $"whoami needs the scope {ReadScope}; admin-action also needs {AdminScope} (step-up: 403 insufficient_scope, then re-authorize).",
            AutoApprove ? "Consent is given automatically (--demo-auto-approve)." : $"Clients send you to a consent page at {Issuer}/authorize: click Allow.",
            Exchange ? $"Token exchange is on (--demo-exchange): McpAuth exchanges every token for one with audience {ExchangeAudience}." : null,
            Dpop ? "A token request with a DPoP proof gets a DPoP-bound token (--demo-dpop); McpAuth accepts DPoP next to Bearer." : null,
            Opaque ? $"Clients get opaque reference tokens (--demo-opaque): McpAuth introspects them at {Issuer}/introspect (RFC 7662)." : null,
            "",
            "Connect a real MCP client (it registers itself and opens the consent page):",
            $"  npx @modelcontextprotocol/inspector --web --transport http --server-url {Resource}",
            "",
            $"Or use curl with this token for {Subject} (scope {ReadScope}, valid for one hour, signed by the demo's key):",
            "",
            $"TOKEN={token}",
            "",
            "Call the whoami tool (in the same shell, after setting TOKEN as above):",
            "",
            $"curl -s {Resource} -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d '{call}'",
            "",
            $"Without the token you get 401 and a WWW-Authenticate challenge pointing at {BaseUrl}/.well-known/oauth-protected-resource{new Uri(Resource).AbsolutePath}.",
            "===========================================================",
            "",
        ];
        return string.Join(Environment.NewLine, lines.OfType<string>());
    }

    /// <summary>The anti-forgery value of the consent form: an HMAC, under a key made at start, of the request.</summary>
    internal string ConsentToken(IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var text = string.Join('\n', parameters.Select(p => p.Key + "=" + p.Value));
        return Convert.ToHexStringLower(HMACSHA256.HashData(_consentKey, Encoding.UTF8.GetBytes(text)));
    }

    internal static ClaimsIdentity UserIdentity(string subject)
    {
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, subject);
        return identity;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _keepAlive.Dispose();
        ClientStoreLock.Dispose();
    }
}
