using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using McpAuth.AspNetCore;
using McpAuth.Kubernetes;
using McpAuth.OpenIdConnect;
using McpAuth.Ports;
using McpAuth.Redis;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace McpAuth.Host.Tests;

/// <summary>
/// deploy/ checked against the host: the host built from the manifests' own settings answers the probes, the ports
/// agree, every McpAuth__ key is one the host reads (and does read), RBAC is exactly TokenReview's, the pod is locked
/// down. The host reads its settings from the environment as in a pod, so these tests set process-wide variables and
/// run in the non-parallel collection.
/// </summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class DeploymentManifestTests
{
    private static readonly Manifests Deploy = Manifests.Load(Path.Combine(Repo.Root, "deploy"));

    /// <summary>
    /// The settings the host reads: the public settable properties of the options classes it binds from the McpAuth
    /// section (what the configuration binder fills). The flags table (--help) is not this set: some settings have no
    /// flag on purpose (SharedCacheKey is a secret for the environment only; ServiceAccountPath; the cache and timeout
    /// settings), so it would refuse keys the host does read. That a key is also really bound is checked below on the
    /// built host, value by value.
    /// </summary>
    private static readonly Type[] BoundOptions =
    [
        typeof(McpAuthOptions), typeof(McpAuthBearerOptions), typeof(OidcProviderOptions), typeof(TokenExchangeOptions),
        typeof(KubernetesTokenReviewOptions), typeof(RedisSharedCacheOptions), typeof(McpHostOptions),
    ];

    private static readonly Dictionary<string, (Type Options, PropertyInfo Property)> HostKeys = BoundOptions
        .SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod?.IsPublic == true).Select(p => (t, p)))
        .ToDictionary(x => x.p.Name, x => (x.t, x.p), StringComparer.Ordinal);

    [Fact]
    public void EveryMcpAuthKeyTheManifestsSet_IsOneTheHostReads()
    {
        var keys = Deploy.ContainerEnvironment(placeholders: Substitutes()).Keys.Where(k => k.StartsWith("McpAuth__", StringComparison.Ordinal)).ToList();
        keys.Should().Contain(["McpAuth__BindAddress", "McpAuth__Port", "McpAuth__RequireOAuth", "McpAuth__ServerUrl", "McpAuth__AuthorizationUrl",
            "McpAuth__ValidateToken", "McpAuth__StsClientSecret", "McpAuth__SharedCache", "McpAuth__SharedCacheKey"]);
        foreach (var key in keys)
        {
            var setting = key["McpAuth__".Length..].Split("__")[0];
            HostKeys.Should().ContainKey(setting, $"{key} must name a setting the host binds (exact case; keys it does not know are silently ignored)");
        }
    }

    [Fact]
    public async Task HostBuiltFromTheManifestsSettings_ReadsEveryOne_AndAnswersTheProbesOnTheirPaths()
    {
        var environment = Deploy.ContainerEnvironment(placeholders: Substitutes());
        var probe = new SwitchableProbe();
        using var scope = new EnvironmentScope(environment.Select(e => new KeyValuePair<string, string?>(e.Key, e.Value)).Append(new("KUBECONFIG", null)));
        await using var app = BuildHost(probe);
        await app.StartAsync();
        var client = app.GetTestClient();

        // Every McpAuth__ value the pod gets is what the host bound.
        foreach (var (key, value) in environment.Where(e => e.Key.StartsWith("McpAuth__", StringComparison.Ordinal)))
        {
            var (options, property) = HostKeys[key["McpAuth__".Length..]];
            var bound = options == typeof(McpHostOptions)
                ? app.Configuration.GetSection(McpAuthOptions.SectionName).Get<McpHostOptions>()! // how McpAuthHost reads it
                : typeof(IOptions<>).MakeGenericType(options).GetProperty("Value")!.GetValue(app.Services.GetRequiredService(typeof(IOptions<>).MakeGenericType(options)));
            Convert.ToString(property.GetValue(bound), CultureInfo.InvariantCulture).Should().BeEquivalentTo(value, $"the host must have read {key}");
        }

        app.Configuration["urls"].Should().Be($"http://0.0.0.0:{environment["McpAuth__Port"]}", "in a pod the host listens on every interface");

        var container = Deploy.Container;
        var liveness = (string)container["livenessProbe"]!["httpGet"]!["path"]!;
        var readiness = (string)container["readinessProbe"]!["httpGet"]!["path"]!;
        (liveness, readiness).Should().Be(("/healthz", "/readyz"));
        (await client.GetAsync(liveness)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.GetAsync(readiness)).StatusCode.Should().Be(HttpStatusCode.OK);
        probe.Health = PeerHealth.Unhealthy("the issuer is down");
        (await client.GetAsync(readiness)).StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "readiness follows the peers");
        (await client.GetAsync(liveness)).StatusCode.Should().Be(HttpStatusCode.OK, "liveness does not, so an outage restarts nothing");

        // RequireOAuth from the ConfigMap: the MCP endpoint wants a token for ServerUrl + /mcp.
        var resource = environment["McpAuth__ServerUrl"] + "/mcp";
        (await client.SendAsync(HostHarness.Mcp(null))).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await client.SendAsync(HostHarness.Mcp(HostHarness.Token(audience: resource)))).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public void Secrets_ArePlaceholders_AndTheHostRefusesToStartWithThem()
    {
        var secret = Deploy.Single("Secret");
        var values = secret["stringData"]!.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!);
        values.Keys.Should().BeEquivalentTo("McpAuth__StsClientSecret", "McpAuth__SharedCache", "McpAuth__SharedCacheKey");
        values.Values.Should().OnlyContain(v => v.Contains("REPLACE_ME"), "a placeholder must say so");
        secret["data"].Should().BeNull("no real value is committed");

        using var scope = new EnvironmentScope(Deploy.ContainerEnvironment(placeholders: null).Select(e => new KeyValuePair<string, string?>(e.Key, e.Value)));
        var result = McpAuthHost.Build([], b => b.WebHost.UseTestServer());
        result.App.Should().BeNull("a forgotten placeholder must not serve");
        result.ExitCode.Should().Be(2);
        result.Message.Should().Contain("McpAuth:SharedCacheKey");
    }

    [Fact]
    public void Ports_ProbesTargetTheContainerPort_WhichIsMcpAuthPort_AndTheImagesPort()
    {
        var container = Deploy.Container;
        var port = container["ports"]!.AsArray().Should().ContainSingle().Subject!;
        var containerPort = int.Parse((string)port["containerPort"]!, CultureInfo.InvariantCulture);
        ResolvePort(container["livenessProbe"]!["httpGet"]!["port"]!).Should().Be(containerPort);
        ResolvePort(container["readinessProbe"]!["httpGet"]!["port"]!).Should().Be(containerPort);
        int.Parse(Deploy.ContainerEnvironment(Substitutes())["McpAuth__Port"], CultureInfo.InvariantCulture).Should().Be(containerPort);
        ResolvePort(Deploy.Single("Service")["spec"]!["ports"]![0]!["targetPort"]!).Should().Be(containerPort);
        var project = XDocument.Load(Path.Combine(Repo.Root, "src", "Host", "McpAuth.Host.csproj"));
        project.Descendants("ContainerPort").Select(e => int.Parse(e.Attribute("Include")!.Value, CultureInfo.InvariantCulture)).Should().Equal(containerPort);

        int ResolvePort(JsonNode node) =>
            int.TryParse((string)node!, CultureInfo.InvariantCulture, out var n) ? n
            : int.Parse((string)port["name"]! == (string)node! ? (string)port["containerPort"]! : throw new InvalidOperationException($"no port named {node}"), CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Rbac_IsExactlyCreateOnTokenReviews_BoundToTheDeploymentsServiceAccount()
    {
        Deploy.Objects.Where(o => (string)o["kind"]! is "Role" or "RoleBinding").Should().BeEmpty();
        var role = Deploy.Single("ClusterRole");
        var rule = role["rules"]!.AsArray().Should().ContainSingle().Subject!.AsObject();
        rule.Select(p => p.Key).Should().BeEquivalentTo("apiGroups", "resources", "verbs");
        Strings(rule["apiGroups"]).Should().Equal("authentication.k8s.io");
        Strings(rule["resources"]).Should().Equal("tokenreviews");
        Strings(rule["verbs"]).Should().Equal("create");
        role["aggregationRule"].Should().BeNull();

        var binding = Deploy.Single("ClusterRoleBinding");
        ((string)binding["roleRef"]!["kind"]!, (string)binding["roleRef"]!["name"]!).Should().Be(("ClusterRole", (string)role["metadata"]!["name"]!));
        var subject = binding["subjects"]!.AsArray().Should().ContainSingle().Subject!;
        var deployment = Deploy.Single("Deployment");
        ((string)subject["kind"]!, (string)subject["name"]!, (string)subject["namespace"]!).Should().Be(
            ("ServiceAccount", (string)deployment["spec"]!["template"]!["spec"]!["serviceAccountName"]!, (string)deployment["metadata"]!["namespace"]!));
        ((string)Deploy.Single("ServiceAccount")["metadata"]!["name"]!).Should().Be((string)subject["name"]!);
    }

    [Fact]
    public void Pod_RunsLockedDown_WithTheServiceAccountTokenMountedOnlyForTokenReview()
    {
        var deployment = Deploy.Single("Deployment");
        ((string)deployment["spec"]!["replicas"]!).Should().Be("3");
        var pod = deployment["spec"]!["template"]!["spec"]!;
        var container = Deploy.Container;
        string? Effective(string field) => (container["securityContext"]?[field] ?? pod["securityContext"]?[field])?.ToJsonString().Trim('"');

        Effective("runAsNonRoot").Should().Be("true");
        var user = long.Parse(Effective("runAsUser")!, CultureInfo.InvariantCulture);
        user.Should().BePositive("a numeric non-root user, so runAsNonRoot can be checked by the kubelet");
        var project = XDocument.Load(Path.Combine(Repo.Root, "src", "Host", "McpAuth.Host.csproj"));
        project.Descendants("ContainerUser").Single().Value.Should().Be(user.ToString(CultureInfo.InvariantCulture), "the image's user");
        ((string?)container["securityContext"]?["readOnlyRootFilesystem"]).Should().Be("true");
        ((string?)container["securityContext"]?["allowPrivilegeEscalation"]).Should().Be("false");
        ((string?)container["securityContext"]?["privileged"] ?? "false").Should().Be("false");
        Strings(container["securityContext"]?["capabilities"]?["drop"]).Should().Equal("ALL");
        container["securityContext"]?["capabilities"]?["add"].Should().BeNull();
        ((string?)(container["securityContext"]?["seccompProfile"] ?? pod["securityContext"]?["seccompProfile"])?["type"]).Should().Be("RuntimeDefault");
        foreach (var hostAccess in new[] { "hostNetwork", "hostPID", "hostIPC" })
        {
            ((string?)pod[hostAccess] ?? "false").Should().Be("false", hostAccess);
        }

        var volumes = pod["volumes"]!.AsArray().ToDictionary(v => (string)v!["name"]!, v => v!);
        var mounts = container["volumeMounts"]!.AsArray().ToDictionary(m => (string)m!["mountPath"]!, m => (string)m!["name"]!);
        volumes[mounts["/tmp"]]["emptyDir"].Should().NotBeNull("the root filesystem is read-only; /tmp is an emptyDir");

        foreach (var kind in new[] { "requests", "limits" })
        {
            container["resources"]![kind]!.AsObject().Select(p => p.Key).Should().BeEquivalentTo(["cpu", "memory"], kind);
        }

        // The token: either mounted automatically (and then nothing else may be), or declared as a projected volume at
        // the folder the host reads. This deployment declares it.
        ((string?)Deploy.Single("ServiceAccount")["automountServiceAccountToken"]).Should().Be("false");
        ((string?)pod["automountServiceAccountToken"]).Should().Be("false");
        var folder = new KubernetesTokenReviewOptions().ServiceAccountPath;
        Deploy.ContainerEnvironment(Substitutes()).Should().NotContainKey("McpAuth__ServiceAccountPath", "the token is mounted where the host looks by default");
        var sources = volumes[mounts[folder]]["projected"]!["sources"]!.AsArray();
        ((string)sources.Single(s => s!["serviceAccountToken"] is not null)!["serviceAccountToken"]!["path"]!).Should().Be("token");
        sources.Where(s => s!["serviceAccountToken"] is not null).Single()!["serviceAccountToken"]!["audience"].Should().BeNull("the API server's own audience");
        Strings(sources.SelectMany(s => s!["configMap"]?["items"]?.AsArray() ?? []).Select(i => i!["path"])).Should().Equal("ca.crt");
        Strings(sources.SelectMany(s => s!["downwardAPI"]?["items"]?.AsArray() ?? []).Select(i => i!["path"])).Should().Equal("namespace");
        ((string)container["volumeMounts"]!.AsArray().Single(m => (string)m!["mountPath"]! == folder)!["readOnly"]!).Should().Be("true");
    }

    /// <summary>What `kubectl apply -k deploy/` applies is what these tests read (where kubectl, which bundles kustomize, is installed).</summary>
    [Fact]
    public void Kustomize_RendersTheObjectsTheseTestsRead()
    {
        Deploy.Objects.Select(Manifests.Identity).Should().BeEquivalentTo(
            ["Namespace//mcpauth", "ServiceAccount/mcpauth/mcpauth", "ClusterRole//mcpauth-tokenreview", "ClusterRoleBinding//mcpauth-tokenreview",
             "ConfigMap/mcpauth/mcpauth-settings", "Secret/mcpauth/mcpauth-secrets", "Deployment/mcpauth/mcpauth", "Service/mcpauth/mcpauth",
             "PodDisruptionBudget/mcpauth/mcpauth"]);
        if (Manifests.RenderWithKubectl(Path.Combine(Repo.Root, "deploy")) is not { } rendered)
        {
            Deploy.RenderedBy.Should().Be("files", "kubectl is not installed: the files were read as kustomization.yaml lists them");
            return;
        }

        rendered.Objects.Select(Manifests.Identity).Should().BeEquivalentTo(Deploy.Objects.Select(Manifests.Identity));
        ((string)rendered.Container["image"]!).Should().NotBe("mcpauth-host", "kustomization.yaml's images: sets the pushed image");
    }

    // Test values for the Secret's placeholders (the manifests' own values are REPLACE_ME, refused above). The shared
    // cache points at a closed loopback port: the host starts without it, as it does when Redis is down.
    private static Dictionary<string, string> Substitutes() => new(StringComparer.Ordinal)
    {
        ["McpAuth__StsClientSecret"] = "test-client-secret",
        ["McpAuth__SharedCache"] = $"127.0.0.1:{Repo.FreePort()},abortConnect=false,connectTimeout=200",
        ["McpAuth__SharedCacheKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
    };

    private static WebApplication BuildHost(IPeerHealthProbe probe)
    {
        var result = McpAuthHost.Build([], b =>
        {
            b.WebHost.UseTestServer();
            // Fake ports and one probe: the issuer, the token service and the cluster of the manifests are not reachable here.
            b.Services.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator>(new FakeOidcValidator()));
            b.Services.Replace(ServiceDescriptor.Singleton<ITokenExchangeClient>(new FakeExchangeClient()));
            b.Services.Replace(ServiceDescriptor.Singleton<ITokenReviewClient>(new FakeReviewClient()));
            b.Services.RemoveAll<IPeerHealthProbe>();
            b.Services.AddSingleton(probe);
        });
        result.App.Should().NotBeNull(result.Message);
        return result.App!;
    }

    private static IEnumerable<string> Strings(JsonNode? node) => node?.AsArray().Select(n => (string)n!) ?? [];

    private static IEnumerable<string> Strings(IEnumerable<JsonNode?> nodes) => nodes.Select(n => (string)n!);

    private sealed class SwitchableProbe : IPeerHealthProbe
    {
        public PeerHealth Health { get; set; } = PeerHealth.Healthy("fine");

        public string Name => "switchable";

        public ValueTask<PeerHealth> CheckAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Health);
    }
}

/// <summary>
/// The objects of a kustomization, as JSON nodes whose scalars are all strings (YAML's plain scalars, untyped): either
/// rendered by `kubectl kustomize` when kubectl is installed (what `kubectl apply -k` applies), or read from the files
/// kustomization.yaml lists with its namespace applied to namespaced objects.
/// </summary>
internal sealed class Manifests
{
    private static readonly HashSet<string> ClusterScoped = new(StringComparer.Ordinal) { "Namespace", "ClusterRole", "ClusterRoleBinding" };

    private Manifests(IReadOnlyList<JsonObject> objects, string renderedBy)
    {
        Objects = objects;
        RenderedBy = renderedBy;
    }

    public IReadOnlyList<JsonObject> Objects { get; }

    /// <summary>"kubectl" or "files".</summary>
    public string RenderedBy { get; }

    public JsonObject Container => Single("Deployment")["spec"]!["template"]!["spec"]!["containers"]!.AsArray().Single()!.AsObject();

    public static string Identity(JsonObject o) => $"{o["kind"]}/{o["metadata"]!["namespace"]}/{o["metadata"]!["name"]}";

    public JsonObject Single(string kind) => Objects.Should().ContainSingle(o => (string)o["kind"]! == kind, kind).Subject;

    public static Manifests Load(string folder) => RenderWithKubectl(folder) ?? ReadFiles(folder);

    /// <summary>
    /// The environment of the container: its ConfigMaps and Secrets (envFrom, resolved by name among the objects) then
    /// its env entries. Secret values are replaced by <paramref name="placeholders"/> where given.
    /// </summary>
    public Dictionary<string, string> ContainerEnvironment(Dictionary<string, string>? placeholders)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in Container["envFrom"]?.AsArray() ?? [])
        {
            var (kind, reference) = source!["configMapRef"] is { } c ? ("ConfigMap", c) : ("Secret", source["secretRef"]!);
            var name = (string)reference["name"]!;
            var target = Objects.Should().ContainSingle(o => (string)o["kind"]! == kind && (string)o["metadata"]!["name"]! == name, $"envFrom names {kind} {name}").Subject;
            var data = kind == "ConfigMap" ? target["data"]! : target["stringData"]!;
            foreach (var (key, value) in data.AsObject())
            {
                environment[key] = kind == "Secret" && placeholders is not null && placeholders.TryGetValue(key, out var substitute) ? substitute : (string)value!;
            }
        }

        foreach (var entry in Container["env"]?.AsArray() ?? [])
        {
            environment[(string)entry!["name"]!] = (string)entry["value"]!;
        }

        return environment;
    }

    public static Manifests? RenderWithKubectl(string folder)
    {
        var kubectl = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, "kubectl")).FirstOrDefault(File.Exists);
        if (kubectl is null)
        {
            return null;
        }

        var info = new ProcessStartInfo(kubectl, ["kustomize", folder]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        process.ExitCode.Should().Be(0, "kubectl kustomize must render deploy/: " + stderr.Result);
        return new Manifests(Parse(output).ToList(), "kubectl");
    }

    private static Manifests ReadFiles(string folder)
    {
        var kustomization = Parse(File.ReadAllText(Path.Combine(folder, "kustomization.yaml"))).Single();
        var ns = (string?)kustomization["namespace"];
        var objects = kustomization["resources"]!.AsArray().SelectMany(r => Parse(File.ReadAllText(Path.Combine(folder, (string)r!)))).ToList();
        foreach (var o in objects.Where(o => ns is not null && !ClusterScoped.Contains((string)o["kind"]!)))
        {
            o["metadata"]!["namespace"] = ns;
        }

        return new Manifests(objects, "files");
    }

    private static IEnumerable<JsonObject> Parse(string yaml)
    {
        var deserializer = new DeserializerBuilder().Build();
        var parser = new Parser(new StringReader(yaml));
        parser.Consume<StreamStart>();
        var documents = new List<JsonObject>();
        while (parser.Accept<DocumentStart>(out _))
        {
            if (ToJson(deserializer.Deserialize<object?>(parser)) is JsonObject document)
            {
                documents.Add(document);
            }
        }

        return documents;
    }

    private static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        string text => JsonValue.Create(text),
        IDictionary<object, object?> map => new JsonObject(map.Select(p => KeyValuePair.Create(Convert.ToString(p.Key, CultureInfo.InvariantCulture)!, ToJson(p.Value)))),
        IEnumerable<object?> list => new JsonArray(list.Select(ToJson).ToArray()),
        _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
    };
}
