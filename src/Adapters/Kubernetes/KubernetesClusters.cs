using System.Collections.Concurrent;
using k8s;
using McpAuth.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Kubernetes;

/// <summary>
/// The clusters McpAuth can review tokens on: the contexts of a kubeconfig (<c>Kubeconfig</c>, else <c>KUBECONFIG</c>,
/// else the in-cluster configuration). The target <c>""</c> is the current context; an unknown context is refused.
/// One client per context (and one credential-less client for calls made with a caller's token), built once, safe
/// under concurrency.
/// </summary>
public sealed class KubernetesClusters : IDisposable
{
    private readonly KubernetesTokenReviewOptions _options;
    private readonly ILogger<KubernetesClusters> _logger;
    private readonly Lazy<Source?> _source;
    private readonly ConcurrentDictionary<string, Lazy<k8s.Kubernetes>> _clients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<k8s.Kubernetes>> _anonymousClients = new(StringComparer.Ordinal);

    /// <summary>Creates the registry; the kubeconfig is read on first use.</summary>
    public KubernetesClusters(IOptions<KubernetesTokenReviewOptions> options, ILogger<KubernetesClusters> logger)
    {
        _options = options.Value;
        _logger = logger;
        _source = new Lazy<Source?>(Load, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>True when a kubeconfig or an in-cluster configuration was found.</summary>
    public bool Configured => _source.Value is not null;

    /// <summary>Every target a review can name: the kubeconfig's contexts, or <c>""</c> in a cluster; empty when nothing is configured.</summary>
    public IReadOnlyList<string> Targets => _source.Value switch
    {
        null => [],
        { Kubeconfig: null } => [string.Empty],
        var source => source.Contexts.Order(StringComparer.Ordinal).ToArray(),
    };

    /// <summary>The server's own client for <paramref name="target"/>, or null when the context is unknown.</summary>
    public k8s.Kubernetes? ClientFor(string target) => Get(target, _clients, anonymous: false);

    /// <summary>A client for <paramref name="target"/> that carries no credentials of the server (for calls made with a caller's token).</summary>
    public k8s.Kubernetes? AnonymousClientFor(string target) => Get(target, _anonymousClients, anonymous: true);

    private k8s.Kubernetes? Get(string target, ConcurrentDictionary<string, Lazy<k8s.Kubernetes>> cache, bool anonymous)
    {
        var context = Resolve(target);
        if (context is null)
        {
            return null;
        }

        return cache.GetOrAdd(context, c => new Lazy<k8s.Kubernetes>(() => Build(c, anonymous), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
    }

    private string? Resolve(string target)
    {
        var source = _source.Value;
        if (source is null)
        {
            return null;
        }

        if (source.Kubeconfig is null)
        {
            return target.Length == 0 ? InCluster : null; // in-cluster: only the default target
        }

        var name = target.Length == 0 ? source.Kubeconfig.CurrentContext : target;
        return !string.IsNullOrEmpty(name) && source.Contexts.Contains(name) ? name : null;
    }

    private const string InCluster = "\0in-cluster";

    private k8s.Kubernetes Build(string context, bool anonymous)
    {
        var source = _source.Value!;
        var config = source.Kubeconfig is null
            ? InClusterConfig(_options.ServiceAccountPath)
            : KubernetesClientConfiguration.BuildConfigFromConfigObject(source.Kubeconfig, context);
        if (anonymous)
        {
            config = new KubernetesClientConfiguration
            {
                Host = config.Host,
                SslCaCerts = config.SslCaCerts,
                SkipTlsVerify = config.SkipTlsVerify,
                TlsServerName = config.TlsServerName,
            };
        }

        config.HttpClientTimeout = _options.TokenReviewTimeout;
        return new k8s.Kubernetes(config, new BoundedResponseHandler());
    }

    // KubernetesClient's in-cluster rule (KUBERNETES_SERVICE_HOST/_PORT and the service-account files), with the files'
    // folder from the options, so that the configuration can be tested outside a pod.
    private static bool IsInCluster(string folder) =>
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST"))
        && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_PORT"))
        && File.Exists(Path.Combine(folder, "token")) && File.Exists(Path.Combine(folder, "ca.crt"));

    private static KubernetesClientConfiguration InClusterConfig(string folder)
    {
        var host = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST") is { Length: > 0 } h ? h : "kubernetes.default.svc";
        var port = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_PORT") is { Length: > 0 } p ? p : "443";
        var config = new KubernetesClientConfiguration
        {
            Host = new UriBuilder("https", host, int.Parse(port, System.Globalization.CultureInfo.InvariantCulture)).ToString(),
            TokenProvider = new k8s.Authentication.TokenFileAuth(Path.Combine(folder, "token")), // re-read as the kubelet rotates it
            SslCaCerts = LoadPem(Path.Combine(folder, "ca.crt")),
        };
        var ns = Path.Combine(folder, "namespace");
        if (File.Exists(ns))
        {
            config.Namespace = File.ReadAllText(ns).Trim();
        }

        return config;
    }

    private static System.Security.Cryptography.X509Certificates.X509Certificate2Collection LoadPem(string path)
    {
        var certificates = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
        certificates.ImportFromPemFile(path);
        return certificates;
    }

    private Source? Load()
    {
        var path = !string.IsNullOrEmpty(_options.Kubeconfig) ? _options.Kubeconfig : Environment.GetEnvironmentVariable("KUBECONFIG");
        if (!string.IsNullOrEmpty(path))
        {
            path = path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? path;
            var kubeconfig = KubernetesClientConfiguration.LoadKubeConfig(path);
            var contexts = (kubeconfig.Contexts ?? []).Select(c => c.Name).Where(n => !string.IsNullOrEmpty(n)).ToHashSet(StringComparer.Ordinal);
            Log.KubeconfigLoaded(_logger, LogValue.Clean(string.Join(", ", contexts), 1024), LogValue.Clean(kubeconfig.CurrentContext));
            return new Source(kubeconfig, contexts);
        }

        if (IsInCluster(_options.ServiceAccountPath))
        {
            return new Source(null, new HashSet<string>());
        }

        Log.ReviewFailed(_logger, string.Empty, "no kubeconfig (set Kubeconfig or KUBECONFIG) and not running in a cluster");
        return null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var client in _clients.Values.Concat(_anonymousClients.Values).Where(l => l.IsValueCreated))
        {
            client.Value.Dispose();
        }
    }

    private sealed record Source(k8s.KubeConfigModels.K8SConfiguration? Kubeconfig, HashSet<string> Contexts);
}
