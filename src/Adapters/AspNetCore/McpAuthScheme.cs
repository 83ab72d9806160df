using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace McpAuth.AspNetCore;

/// <summary>
/// What the handler, the endpoint conventions and the metadata endpoints of one McpAuth scheme share, built once from
/// its options: the challenge mapping, the Origin/Host guard, and the resource and metadata URLs.
/// </summary>
internal sealed class McpAuthScheme
{
    public McpAuthScheme(string name, McpAuthBearerOptions options, McpAuthOptions pipeline, IReadOnlyCollection<string>? dpopAlgorithms = null, Func<string>? dpopNonce = null)
    {
        Name = name;
        Options = options;
        Pipeline = pipeline;
        Guard = new McpRequestGuard(options);
        DpopAlgorithms = dpopAlgorithms ?? [];
        Challenges = new ChallengeMapper(options.Realm, pipeline.Audience, pipeline.RequiredScopes.ToArray(), options.RetryAfterSeconds,
            pipeline.Dpop, DpopAlgorithms, pipeline.DpopNonces ? dpopNonce : null);
        ScopesSupported = pipeline.RequiredScopes.Concat(pipeline.ToolScopes.Values.SelectMany(v => v))
            .Where(s => !string.IsNullOrWhiteSpace(s)).Distinct(StringComparer.Ordinal).ToArray();
    }

    public string Name { get; }

    public McpAuthBearerOptions Options { get; }

    public McpAuthOptions Pipeline { get; }

    public McpRequestGuard Guard { get; }

    public ChallengeMapper Challenges { get; }

    public IReadOnlyList<string> ScopesSupported { get; }

    /// <summary>The algorithms a DPoP proof may use (empty with DPoP off).</summary>
    public IReadOnlyCollection<string> DpopAlgorithms { get; }

    /// <summary>The server's public base URL: <c>ServerUrl</c>, else derived from the request.</summary>
    public string BaseUrl(HttpRequest request) =>
        !string.IsNullOrEmpty(Options.ServerUrl) ? Options.ServerUrl.TrimEnd('/') : $"{request.Scheme}://{request.Host.Value}{request.PathBase}";

    /// <summary>The resource URL of the MCP endpoint.</summary>
    public string ResourceUrl(HttpRequest request) => BaseUrl(request) + Options.McpPath;

    /// <summary>The absolute URL of the protected-resource metadata that challenges point to.</summary>
    public string ResourceMetadataUrl(HttpRequest request) =>
        Options.ResourceMetadataUrl is { Length: > 0 } configured ? configured : BaseUrl(request) + McpAuthBearerDefaults.ProtectedResourcePath + Options.McpPath;

    /// <summary>The scheme's shared state, made once per scheme name.</summary>
    internal sealed class Registry(
        IOptionsMonitor<McpAuthBearerOptions> schemeOptions, IOptions<McpAuthOptions> pipeline, Dpop.DpopProofValidator proofs, Dpop.DpopNonces nonces)
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, McpAuthScheme> _schemes = new(StringComparer.Ordinal);

        public McpAuthScheme Get(string scheme) =>
            _schemes.GetOrAdd(scheme, s => new McpAuthScheme(s, schemeOptions.Get(s), pipeline.Value,
                pipeline.Value.Dpop == DpopMode.Off ? [] : proofs.Algorithms, nonces.Current));
    }
}
