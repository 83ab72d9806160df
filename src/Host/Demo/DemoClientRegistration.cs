using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace McpAuth.Host.Demo;

/// <summary>
/// The two ways a client makes itself known to the demo, both thin layers over OpenIddict's application manager
/// (OpenIddict 7.8 has neither): RFC 7591 dynamic registration at <c>/demo-issuer/register</c>, and Client ID Metadata
/// Documents, where the <c>client_id</c> is the URL of a JSON document the server fetches when the client first asks
/// for authorization. Both go through <see cref="DemoClientPolicy"/>.
/// </summary>
internal static class DemoClientRegistration
{
    public const string HttpClientName = "McpAuth.Demo.ClientMetadata";
    private const int MaxRequestBytes = 16 * 1024;
    private const int MaxDocumentBytes = 64 * 1024;
    private const int MaxClients = 1000;
    private static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(5);

    /// <summary>POST /demo-issuer/register: registers a public client (RFC 7591 §3).</summary>
    public static async Task RegisterAsync(HttpContext context, DemoAuthorizationServer demo, IOpenIddictApplicationManager applications,
        TimeProvider time, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(DemoClientRegistration).FullName!);
        context.Response.Headers.CacheControl = "no-store";
        if (context.Request.ContentType is not { } type || !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            await Refuse(context, logger, "invalid_client_metadata", "The registration request must be application/json.");
            return;
        }

        JsonDocument? body;
        try
        {
            body = await ReadBoundedJsonAsync(context.Request.Body, MaxRequestBytes, context.RequestAborted);
        }
        catch (JsonException)
        {
            body = null;
        }

        using (body)
        {
            if (body is null)
            {
                await Refuse(context, logger, "invalid_client_metadata", $"The registration request is not JSON of at most {MaxRequestBytes} bytes.");
                return;
            }

            if (await applications.CountAsync(context.RequestAborted) >= MaxClients)
            {
                await Refuse(context, logger, "invalid_client_metadata", $"The demo holds at most {MaxClients} clients; restart it.");
                return;
            }

            var clientId = "demo-client-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
            var descriptor = DemoClientPolicy.Read(body.RootElement, clientId, DemoAuthorizationServer.Scopes, demo.Resource, registration: true, out var error, out var description);
            if (descriptor is null)
            {
                await Refuse(context, logger, error!, description!);
                return;
            }

            await applications.CreateAsync(descriptor, context.RequestAborted);
            DemoLog.Registered(logger, clientId, DemoClientPolicy.LogClean(descriptor.DisplayName), descriptor.RedirectUris.Count);
            context.Response.StatusCode = StatusCodes.Status201Created;
            await context.Response.WriteAsJsonAsync(DemoClientPolicy.Response(descriptor, time.GetUtcNow()), context.RequestAborted);
        }
    }

    /// <summary>
    /// A client_id that is the URL of a Client ID Metadata Document: https with a path, or http on loopback (a local
    /// fixture, as the MCP Inspector allows).
    /// </summary>
    public static bool IsDocumentUrl(string? clientId, out Uri url)
    {
        url = null!;
        if (clientId is null || !Uri.TryCreate(clientId, UriKind.Absolute, out var uri) || uri.AbsolutePath == "/"
            || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            return false;
        }

        url = uri;
        return uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && DemoClientPolicy.RedirectUriProblem(clientId) is null);
    }

    private static async Task Refuse(HttpContext context, ILogger logger, string error, string description)
    {
        DemoLog.RegistrationRefused(logger, error, description);
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        await context.Response.WriteAsJsonAsync(new Dictionary<string, string> { ["error"] = error, ["error_description"] = description }, context.RequestAborted);
    }

    internal static async Task<JsonDocument?> ReadBoundedJsonAsync(Stream stream, int maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return JsonDocument.Parse(buffer.ToArray());
    }

    /// <summary>
    /// Runs before OpenIddict looks the client up: when the client_id is a metadata document URL, fetches the document
    /// (no redirects, 5 s, 64 KiB), checks it (its <c>client_id</c> is that URL; the registration rules), and creates or
    /// updates the application, so OpenIddict then validates the request (redirect URI, PKCE, scopes) as for any client.
    /// </summary>
    internal sealed class MetadataDocumentHandler(IHttpClientFactory http, IOpenIddictApplicationManager applications, DemoAuthorizationServer demo,
        ILogger<MetadataDocumentHandler> logger) : IOpenIddictServerHandler<ValidateAuthorizationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateAuthorizationRequestContext>()
            .UseScopedHandler<MetadataDocumentHandler>()
            .SetOrder(OpenIddictServerHandlers.Authentication.ValidateAuthentication.Descriptor.Order - 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ValidateAuthorizationRequestContext context)
        {
            if (!IsDocumentUrl(context.ClientId, out var url))
            {
                return;
            }

            var (descriptor, problem) = await FetchAsync(url, context.CancellationToken);
            if (descriptor is null)
            {
                DemoLog.DocumentRefused(logger, DemoClientPolicy.LogClean(url.OriginalString), problem!);
                context.Reject(Errors.InvalidClient, "The client metadata document was refused: " + problem);
                return;
            }

            await demo.ClientStoreLock.WaitAsync(context.CancellationToken);
            try
            {
                if (await applications.FindByClientIdAsync(url.OriginalString, context.CancellationToken) is { } existing)
                {
                    await applications.UpdateAsync(existing, descriptor, context.CancellationToken);
                }
                else
                {
                    await applications.CreateAsync(descriptor, context.CancellationToken);
                }
            }
            finally
            {
                demo.ClientStoreLock.Release();
            }

            DemoLog.DocumentAccepted(logger, DemoClientPolicy.LogClean(url.OriginalString), DemoClientPolicy.LogClean(descriptor.DisplayName));
        }

        private async Task<(OpenIddictApplicationDescriptor? Descriptor, string? Problem)> FetchAsync(Uri url, CancellationToken cancellationToken)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(FetchTimeout);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.Accept.ParseAdd("application/json");
                using var response = await http.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if (response.StatusCode != System.Net.HttpStatusCode.OK)
                {
                    return (null, $"fetching it answered HTTP {(int)response.StatusCode} (redirects are not followed).");
                }

                await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
                using var document = await ReadBoundedJsonAsync(stream, MaxDocumentBytes, timeout.Token);
                if (document is null)
                {
                    return (null, $"it is larger than {MaxDocumentBytes} bytes.");
                }

                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("client_id", out var id) || id.GetString() != url.OriginalString)
                {
                    return (null, "its client_id is not the URL it was fetched from.");
                }

                var descriptor = DemoClientPolicy.Read(root, url.OriginalString, DemoAuthorizationServer.Scopes, demo.Resource, registration: false, out _, out var description);
                return (descriptor, description);
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or JsonException && !cancellationToken.IsCancellationRequested)
            {
                return (null, ex is OperationCanceledException ? $"fetching it timed out after {FetchTimeout.TotalSeconds:0} s." : ex is JsonException ? "it is not JSON." : "it could not be fetched.");
            }
        }
    }
}
