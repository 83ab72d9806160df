using System.IO.Compression;
using System.Xml.Linq;

namespace McpAuth.Packaging.Tests;

/// <summary>What `dotnet pack` of each shipped project puts in its package: symbols, license, readme, tags, source link, one version.</summary>
[Collection(PackedCollection.Name)]
public sealed class PackageMetadataTests(PackedFeed feed)
{
    [Theory]
    [InlineData("McpAuth.Core")]
    [InlineData("McpAuth.OpenIdConnect")]
    [InlineData("McpAuth.Kubernetes")]
    [InlineData("McpAuth.AspNetCore")]
    [InlineData("McpAuth.Redis")]
    public void Pack_ProducesPackageAndSymbolPackage_AtTheOneVersion(string id)
    {
        File.Exists(feed.Nupkg(id)).Should().BeTrue($"dotnet pack must produce {Path.GetFileName(feed.Nupkg(id))} (feed: {Listing()})");
        File.Exists(feed.Snupkg(id)).Should().BeTrue($"IncludeSymbols/snupkg must produce {Path.GetFileName(feed.Snupkg(id))} (feed: {Listing()})");

        using var package = ZipFile.OpenRead(feed.Nupkg(id));
        package.Entries.Select(e => e.FullName).Should().Contain($"lib/net10.0/{id}.dll").And.Contain($"lib/net10.0/{id}.xml",
            "the libraries ship their XML documentation");
        using var symbols = ZipFile.OpenRead(feed.Snupkg(id));
        symbols.Entries.Select(e => e.FullName).Should().Contain($"lib/net10.0/{id}.pdb");
    }

    [Theory]
    [InlineData("McpAuth.Core")]
    [InlineData("McpAuth.OpenIdConnect")]
    [InlineData("McpAuth.Kubernetes")]
    [InlineData("McpAuth.AspNetCore")]
    [InlineData("McpAuth.Redis")]
    public void Nuspec_CarriesLicenseReadmeTagsRepositoryAndVersion(string id)
    {
        using var package = ZipFile.OpenRead(feed.Nupkg(id));
        var metadata = Nuspec(package, id);
        string? Value(string name) => metadata.Element(metadata.Name.Namespace + name)?.Value;

        Value("id").Should().Be(id);
        Value("version").Should().Be(feed.Version, "every package has the one version Directory.Build.props sets");

        var license = metadata.Element(metadata.Name.Namespace + "license");
        license.Should().NotBeNull("the nuspec must carry a license");
        license!.Attribute("type")?.Value.Should().Be("expression");
        license.Value.Should().Be("MIT");

        var readme = Value("readme");
        readme.Should().NotBeNullOrEmpty("the nuspec must name a readme");
        var readmeEntry = package.GetEntry(readme!);
        readmeEntry.Should().NotBeNull($"the readme '{readme}' must be in the package");
        new StreamReader(readmeEntry!.Open()).ReadToEnd().Should().Contain(id, "the package's readme is about this package");

        Value("tags").Should().NotBeNullOrWhiteSpace().And.Contain("mcp");

        var repository = metadata.Element(metadata.Name.Namespace + "repository");
        repository.Should().NotBeNull("SourceLink/PublishRepositoryUrl must write the repository element");
        Uri.TryCreate(repository!.Attribute("url")?.Value, UriKind.Absolute, out var url).Should().BeTrue("the repository URL is absolute");
        url!.Scheme.Should().Be(Uri.UriSchemeHttps);
        repository.Attribute("commit")?.Value.Should().MatchRegex("^[0-9a-f]{40}$").And.BeOneOf(feed.Commits, "the packages are built from the checked-out commit");

        var dependencies = metadata.Descendants(metadata.Name.Namespace + "dependency")
            .Where(d => d.Attribute("id")!.Value.StartsWith("McpAuth.", StringComparison.Ordinal)).ToList();
        foreach (var dependency in dependencies)
        {
            dependency.Attribute("version")!.Value.Should().Be(feed.Version, $"packages depend on each other at the one version ({dependency})");
        }
    }

    [Fact]
    public void Nuspecs_PackageDependencies_FollowTheReadmeTable()
    {
        // README "Packages": Core has no web, OIDC-protocol or Kubernetes dependency; a service without Kubernetes does
        // not get KubernetesClient (only McpAuth.Kubernetes depends on it).
        var dependencies = PackedFeed.Packages.ToDictionary(p => p.Id, p =>
        {
            using var package = ZipFile.OpenRead(feed.Nupkg(p.Id));
            var metadata = Nuspec(package, p.Id);
            return metadata.Descendants(metadata.Name.Namespace + "dependency").Select(d => d.Attribute("id")!.Value).ToList();
        });

        dependencies["McpAuth.Core"].Should().Contain(["MediatR", "Microsoft.IdentityModel.JsonWebTokens"])
            .And.NotContain(d => d.StartsWith("McpAuth.", StringComparison.Ordinal) || d == "KubernetesClient"
                                 || d.StartsWith("Microsoft.IdentityModel.Protocols", StringComparison.Ordinal) || d.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        dependencies["McpAuth.OpenIdConnect"].Should().Contain(["McpAuth.Core", "Microsoft.IdentityModel.Protocols.OpenIdConnect"]).And.NotContain("KubernetesClient");
        dependencies["McpAuth.Kubernetes"].Should().Contain(["McpAuth.Core", "KubernetesClient"]);
        dependencies["McpAuth.AspNetCore"].Should().Contain(["McpAuth.Core", "McpAuth.OpenIdConnect"])
            .And.NotContain(["McpAuth.Kubernetes", "KubernetesClient", "McpAuth.Redis", "StackExchange.Redis", "Microsoft.Extensions.Caching.StackExchangeRedis"]);
        dependencies["McpAuth.Redis"].Should().Contain(["McpAuth.Core", "Microsoft.Extensions.Caching.Hybrid", "Microsoft.Extensions.Caching.StackExchangeRedis"])
            .And.NotContain(["McpAuth.Kubernetes", "McpAuth.AspNetCore", "KubernetesClient"]);
    }

    private static XElement Nuspec(ZipArchive package, string id)
    {
        var entry = package.Entries.Single(e => e.FullName == id + ".nuspec");
        using var stream = entry.Open();
        var document = XDocument.Load(stream);
        return document.Root!.Element(document.Root.Name.Namespace + "metadata")!;
    }

    private string Listing() => string.Join(", ", Directory.EnumerateFiles(feed.Feed).Select(Path.GetFileName));
}
