using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using ModelContextProtocol.Authentication;

namespace McpAuth.Host.Tests.Demo;

/// <summary>One HTTP exchange a client made: what the tests assert hop by hop.</summary>
/// <param name="Method">The request method.</param>
/// <param name="Url">The request URL.</param>
/// <param name="Status">The response status.</param>
/// <param name="WwwAuthenticate">The response's challenge, if any.</param>
/// <param name="Bearer">Whether the request carried a bearer token.</param>
/// <param name="Form">A form body's fields (token requests).</param>
/// <param name="Json">A JSON body (registration), or the MCP call as "method" or "method name".</param>
/// <param name="Location">The response's Location header.</param>
/// <param name="User">The user's part: opening the authorization URL in a browser.</param>
public sealed record HttpHop(string Method, string Url, int Status, string? WwwAuthenticate, bool Bearer,
    IReadOnlyDictionary<string, string>? Form, string? Json, string? Location, bool User = false)
{
    /// <summary>When the answer came, in ms since the journal started.</summary>
    public long At { get; init; }

    public string Path => new Uri(Url).AbsolutePath;

    public IDictionary<string, string> Query => QueryHelpers.ParseQuery(new Uri(Url).Query).ToDictionary(p => p.Key, p => p.Value.ToString());

    public override string ToString() => $"{At,6} ms {Method} {Path} {Json} -> {Status}";
}

/// <summary>
/// Records every exchange of an HttpClient (a DelegatingHandler), and plays the user: opens the authorization URL the
/// client hands over and returns what the redirect carries. The demo runs with --demo-auto-approve, so consent is given
/// at once; nothing else of OAuth is done here.
/// </summary>
public sealed class HttpJournal : DelegatingHandler
{
    private readonly List<HttpHop> _hops = [];
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private readonly HttpClient _browser = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(20) };

    public HttpJournal()
        : base(new SocketsHttpHandler())
    {
    }

    public IReadOnlyList<HttpHop> Hops
    {
        get
        {
            lock (_hops)
            {
                return _hops.ToArray();
            }
        }
    }

    public async Task<AuthorizationResult?> AuthorizeAsync(AuthorizationCallbackContext context, CancellationToken cancellationToken)
    {
        using var response = await _browser.GetAsync(context.AuthorizationUri, cancellationToken);
        var location = response.Headers.Location;
        Add(new HttpHop("GET", context.AuthorizationUri.AbsoluteUri, (int)response.StatusCode, null, false, null, null, location?.AbsoluteUri, User: true));
        if (location is null || !location.AbsoluteUri.StartsWith(context.RedirectUri.AbsoluteUri, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The authorization endpoint answered {(int)response.StatusCode} without redirecting to {context.RedirectUri}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        var query = QueryHelpers.ParseQuery(location.Query);
        return new AuthorizationResult { Code = query["code"].ToString(), State = query["state"].ToString(), Iss = query["iss"].ToString() };
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<string, string>? form = null;
        string? json = null;
        if (request.Content is { } content)
        {
            await content.LoadIntoBufferAsync(cancellationToken);
            var body = await content.ReadAsStringAsync(cancellationToken);
            var type = content.Headers.ContentType?.MediaType;
            if (type == "application/x-www-form-urlencoded")
            {
                form = QueryHelpers.ParseQuery("?" + body).ToDictionary(p => p.Key, p => p.Key is "code" or "code_verifier" or "refresh_token" or "client_secret" ? "<present>" : p.Value.ToString());
            }
            else if (type == "application/json")
            {
                using var document = JsonDocument.Parse(body);
                json = document.RootElement.TryGetProperty("method", out var method)
                    ? (method.GetString() + (document.RootElement.TryGetProperty("params", out var p) && p.TryGetProperty("name", out var name) ? " " + name.GetString() : "")).Trim()
                    : body;
            }
        }

        var response = await base.SendAsync(request, cancellationToken);
        var challenge = response.Headers.WwwAuthenticate.Count > 0 ? string.Join(", ", response.Headers.GetValues("WWW-Authenticate")) : null;
        Add(new HttpHop(request.Method.Method, request.RequestUri!.AbsoluteUri, (int)response.StatusCode, challenge,
            request.Headers.Authorization?.Scheme == "Bearer", form, json, response.Headers.Location?.AbsoluteUri));
        return response;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _browser.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Add(HttpHop hop)
    {
        lock (_hops)
        {
            _hops.Add(hop with { At = _clock.ElapsedMilliseconds });
        }
    }
}
