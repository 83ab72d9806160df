using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace McpAuth.Host.Tests;

/// <summary>
/// The host's container image, built as scripts/build-image.sh builds it: the SDK's container support, no Docker daemon
/// (<c>dotnet publish src/Host -c Release -t:PublishContainer -p:ContainerArchiveOutputPath=…</c>). Two builds, each
/// isolated in its own artifacts folder (--artifacts-path), so they never touch the bin/obj folders that other test
/// projects build in parallel:
/// <list type="bullet">
/// <item>with the project's own base image (the SDK's ASP.NET Core image on mcr.microsoft.com). Where that registry is
/// reachable, the image is checked. Where it is not (this project's machines reach only NuGet, npm and Debian), the
/// build must fail for exactly that reason, after the app itself built, so the test cannot pass by accident;</item>
/// <item>with a base image served by a registry on 127.0.0.1 in this test (the SDK takes a base image only from a
/// registry: not from a local OCI layout, tarball or daemon). That image's configuration is checked: user, port,
/// entry point, environment.</item>
/// </list>
/// </summary>
public sealed class ContainerImageTests(ContainerImageTests.Builds builds)
    : IClassFixture<ContainerImageTests.Builds>
{
    private const string AppUser = "1654";

    [Fact]
    public void OnALoopbackRegistrysBaseImage_TheImageRunsTheHostAsUid1654_OnPort8080_OnEveryInterface()
    {
        builds.Local.Result.ExitCode.Should().Be(0, builds.Local.Result.Describe());
        var image = OciImage.Read(builds.Local.Archive);
        CheckConfiguration(image);
        image.LayerDiffIds[0].Should().Be(builds.Registry.BaseDiffId, "the image is built on the base image it was given");
    }

    [Fact]
    public void OnTheDefaultBaseImage_TheImageIsBuilt_OrTheBuildFailsOnlyBecauseItsRegistryIsUnreachable()
    {
        var result = builds.Default.Result;
        if (result.ExitCode == 0)
        {
            CheckConfiguration(OciImage.Read(builds.Default.Archive));
            return;
        }

        // Precisely what fails here: the SDK's CreateNewImage task cannot fetch the base image's manifest from
        // mcr.microsoft.com (HttpRequestException, no such host / no route), after the host was built and published.
        result.Output.Should().Contain("McpAuth.Host -> ", "the app itself must build: " + result.Describe());
        var errors = result.Output.Split('\n').Where(l => l.Contains(": error ", StringComparison.Ordinal)).ToList();
        errors.Should().NotBeEmpty(result.Describe());
        errors.Should().OnlyContain(l => l.Contains("Microsoft.NET.Build.Containers.targets", StringComparison.Ordinal),
            "only the image step may fail: " + result.Describe());
        result.Output.Should().Contain("\"CreateNewImage\" task failed").And.MatchRegex(
            @"HttpRequestException: [^\r\n]*\(mcr\.microsoft\.com:443\)", "the base image's registry must be the one thing missing: " + result.Describe());
    }

    private static void CheckConfiguration(OciImage image)
    {
        var config = image.Config["config"]!;
        ((string)config["User"]!).Should().Be(AppUser, "a numeric non-root user (the .NET images' 'app'), so runAsNonRoot can be verified");
        config["ExposedPorts"]!.AsObject().Select(p => p.Key).Should().Equal("8080/tcp");
        var environment = config["Env"]!.AsArray().Select(e => (string)e!).ToList();
        environment.Should().Contain(["McpAuth__BindAddress=0.0.0.0", "McpAuth__Port=8080"], "the host binds 127.0.0.1 by default, unreachable in a container");

        var command = (config["Entrypoint"]?.AsArray() ?? []).Concat(config["Cmd"]?.AsArray() ?? []).Select(e => (string)e!).ToList();
        var program = command.Single(c => c.Contains("McpAuth.Host", StringComparison.Ordinal));
        program.Should().BeOneOf("/app/McpAuth.Host.dll", "/app/McpAuth.Host");
        if (program.EndsWith(".dll", StringComparison.Ordinal))
        {
            command[0].Should().Be("dotnet");
        }

        image.Files.Should().Contain(program, "the entry point must name a file the image has");
        ((string?)config["WorkingDir"] ?? "").TrimEnd('/').Should().Be("/app");
    }

    /// <summary>Runs both builds once for the class (each several minutes on a loaded machine; the second reuses the first's artifacts).</summary>
    public sealed class Builds : IAsyncLifetime
    {
        private readonly string _folder = Path.Combine(Path.GetTempPath(), "mcpauth-image-" + Guid.NewGuid().ToString("N"));

        public (ProcessResult Result, string Archive) Default { get; private set; }

        public (ProcessResult Result, string Archive) Local { get; private set; }

        public LoopbackRegistry Registry { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Directory.CreateDirectory(_folder);
            Registry = await LoopbackRegistry.StartAsync();
            Default = await PublishAsync("default.tar", []);
            Local = await PublishAsync("local.tar", ["-p:ContainerBaseImage=" + Registry.BaseImage],
                new Dictionary<string, string> { ["DOTNET_CONTAINER_INSECURE_REGISTRIES"] = Registry.Authority });
        }

        public async Task DisposeAsync()
        {
            await Registry.DisposeAsync();
            Directory.Delete(_folder, recursive: true);
        }

        private async Task<(ProcessResult, string)> PublishAsync(string archive, string[] properties, Dictionary<string, string>? environment = null)
        {
            var path = Path.Combine(_folder, archive);
            string[] arguments =
            [
                "publish", Path.Combine(Repo.Root, "src", "Host", "McpAuth.Host.csproj"), "-c", "Release", "-t:PublishContainer",
                "-p:ContainerArchiveOutputPath=" + path, "--artifacts-path", Path.Combine(_folder, "artifacts"),
                "--disable-build-servers", "-nologo", .. properties,
            ];
            return (await DotNetAsync(arguments, TimeSpan.FromMinutes(9), environment), path);
        }
    }

    public sealed record ProcessResult(string Command, int ExitCode, string Output, TimeSpan Duration)
    {
        public string Describe() => $"`{Command}` exited {ExitCode} after {Duration.TotalSeconds:0} s:\n{Output}";
    }

    // `dotnet …` as from a shell: without the variables the test host's MSBuild and VSTest set; killed at the timeout.
    private static async Task<ProcessResult> DotNetAsync(string[] arguments, TimeSpan timeout, Dictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo("dotnet", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repo.Root };
        foreach (var name in info.Environment.Keys.Where(n => n.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)
                     || n.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase) || n.StartsWith("TESTINGPLATFORM", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }

        info.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? [])
        {
            info.Environment[name] = value;
        }

        var output = new StringBuilder();
        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            output.AppendLine($"(killed after {timeout})");
        }

        lock (output)
        {
            return new ProcessResult("dotnet " + string.Join(' ', arguments), process.ExitCode, output.ToString(), clock.Elapsed);
        }
    }

    /// <summary>An OCI image read from the SDK's archive (an OCI image layout in a tar; gzip accepted too).</summary>
    private sealed record OciImage(JsonNode Config, IReadOnlyList<string> LayerDiffIds, IReadOnlySet<string> Files)
    {
        public static OciImage Read(string archive)
        {
            var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            using (var file = File.OpenRead(archive))
            {
                var gzip = file.ReadByte() == 0x1f;
                file.Position = 0;
                using var stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
                using var tar = new TarReader(stream);
                while (tar.GetNextEntry() is { } entry)
                {
                    if (entry.DataStream is { } data)
                    {
                        using var copy = new MemoryStream();
                        data.CopyTo(copy);
                        entries[entry.Name.TrimStart('.', '/')] = copy.ToArray();
                    }
                }
            }

            byte[] Blob(JsonNode descriptor) => entries["blobs/" + ((string)descriptor["digest"]!).Replace(':', '/')];
            var index = JsonNode.Parse(entries["index.json"])!;
            var manifest = JsonNode.Parse(Blob(index["manifests"]!.AsArray().Single()!))!;
            var config = JsonNode.Parse(Blob(manifest["config"]!))!;
            var files = new HashSet<string>(StringComparer.Ordinal);
            foreach (var layer in manifest["layers"]!.AsArray())
            {
                using var gzip = new GZipStream(new MemoryStream(Blob(layer!)), CompressionMode.Decompress);
                using var tar = new TarReader(gzip);
                while (tar.GetNextEntry() is { } entry)
                {
                    files.Add("/" + entry.Name.TrimStart('.', '/'));
                }
            }

            return new OciImage(config, config["rootfs"]!["diff_ids"]!.AsArray().Select(d => (string)d!).ToList(), files);
        }
    }

    /// <summary>
    /// A read-only OCI distribution registry on 127.0.0.1 serving one base image, made here: linux/amd64, one layer with
    /// /etc/passwd and /etc/group that have the user 'app' (1654), as the .NET images do. Just enough of the API for
    /// the SDK to pull it: GET /v2/, manifests and blobs (GET and HEAD).
    /// </summary>
    public sealed class LoopbackRegistry : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly Dictionary<string, (byte[] Content, string MediaType)> _content;

        private LoopbackRegistry(WebApplication app, Dictionary<string, (byte[], string)> content, string baseDiffId)
        {
            _app = app;
            _content = content;
            BaseDiffId = baseDiffId;
        }

        public string Authority { get; private set; } = "";

        public string BaseImage => Authority + "/mcpauth-test/base:1";

        public string BaseDiffId { get; }

        public static async Task<LoopbackRegistry> StartAsync()
        {
            var layer = new MemoryStream();
            using (var tar = new TarWriter(layer, TarEntryFormat.Pax, leaveOpen: true))
            {
                AddFile(tar, "etc/passwd", "root:x:0:0:root:/root:/usr/sbin/nologin\napp:x:1654:1654::/home/app:/usr/sbin/nologin\n");
                AddFile(tar, "etc/group", "root:x:0:\napp:x:1654:\n");
            }

            var diffId = Digest(layer.ToArray());
            var compressed = new MemoryStream();
            using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            {
                gzip.Write(layer.ToArray());
            }

            var layerBlob = compressed.ToArray();
            var config = Encoding.UTF8.GetBytes(new JsonObject
            {
                ["architecture"] = "amd64",
                ["os"] = "linux",
                ["config"] = new JsonObject { ["Env"] = new JsonArray("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") },
                ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(diffId) },
            }.ToJsonString());
            var manifest = Encoding.UTF8.GetBytes(new JsonObject
            {
                ["schemaVersion"] = 2,
                ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
                ["config"] = new JsonObject { ["mediaType"] = "application/vnd.oci.image.config.v1+json", ["digest"] = Digest(config), ["size"] = config.Length },
                ["layers"] = new JsonArray(new JsonObject
                {
                    ["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip", ["digest"] = Digest(layerBlob), ["size"] = layerBlob.Length,
                }),
            }.ToJsonString());
            var content = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal)
            {
                ["manifests/1"] = (manifest, "application/vnd.oci.image.manifest.v1+json"),
                ["manifests/" + Digest(manifest)] = (manifest, "application/vnd.oci.image.manifest.v1+json"),
                ["blobs/" + Digest(config)] = (config, "application/octet-stream"),
                ["blobs/" + Digest(layerBlob)] = (layerBlob, "application/octet-stream"),
            };

            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var registry = new LoopbackRegistry(app, content, diffId);
            app.MapMethods("/v2/{**path}", ["GET", "HEAD"], registry.Serve);
            await app.StartAsync();
            registry.Authority = new Uri(app.Urls.First()).Authority;
            return registry;
        }

        private IResult Serve(HttpContext context, string? path)
        {
            context.Response.Headers["Docker-Distribution-API-Version"] = "registry/2.0";
            if (string.IsNullOrEmpty(path))
            {
                return Results.Json(new JsonObject());
            }

            // <repository>/manifests/<reference> or <repository>/blobs/<digest>; only the one repository exists.
            const string Repository = "mcpauth-test/base/";
            if (!path.StartsWith(Repository, StringComparison.Ordinal) || !_content.TryGetValue(path[Repository.Length..], out var item))
            {
                return Results.Json(new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["code"] = "NOT_FOUND" }) }, statusCode: 404);
            }

            context.Response.Headers["Docker-Content-Digest"] = Digest(item.Content);
            return Results.Bytes(item.Content, item.MediaType);
        }

        private static void AddFile(TarWriter tar, string name, string text)
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead };
            entry.DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text));
            tar.WriteEntry(entry);
        }

        private static string Digest(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
