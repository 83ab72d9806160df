using System.Xml.Linq;

namespace McpAuth.Core.Tests;

public class DependencyRuleTests
{
    /// <summary>Web, HTTP-client, OIDC-protocol and Kubernetes assemblies (and every other McpAuth project).</summary>
    private static readonly string[] Forbidden =
    [
        "Microsoft.AspNetCore", "System.Net.Http", "Microsoft.Extensions.Http", "Microsoft.IdentityModel.Protocols",
        "KubernetesClient", "k8s", "Duende", "ModelContextProtocol", "McpAuth.",
    ];

    /// <summary>The packages Core may reference: MediatR, token types, and Microsoft.Extensions abstractions.</summary>
    private static bool IsAllowedPackage(string name) =>
        name is "MediatR" or "Microsoft.IdentityModel.JsonWebTokens" or "Microsoft.IdentityModel.Tokens"
            // Options and its configuration binder are needed to bind and validate McpAuthOptions (pre-existing, ADR-free exceptions).
            or "Microsoft.Extensions.Options" or "Microsoft.Extensions.Configuration.Binder"
        || (name.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) && name.EndsWith(".Abstractions", StringComparison.Ordinal));

    private static List<string> ReferencedAssemblies() =>
        typeof(AuthenticateRequest).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

    [Fact]
    public void Core_ReferencesNoWebHttpOidcProtocolOrKubernetesAssembly()
    {
        var references = ReferencedAssemblies();
        references.Should().Contain("MediatR");
        references.Where(r => Forbidden.Any(f => r.StartsWith(f, StringComparison.OrdinalIgnoreCase))).Should().BeEmpty();
    }

    [Fact]
    public void Core_MayReferenceHostingAbstractions_ButNotTheHost()
    {
        var references = ReferencedAssemblies();
        references.Should().Contain("Microsoft.Extensions.Hosting.Abstractions", "the start-up check is an IHostedService");
        references.Should().NotContain("Microsoft.Extensions.Hosting");
        references.Where(r => r.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal))
            .Should().OnlyContain(r => IsAllowedPackage(r) || r == "Microsoft.Extensions.Primitives", "only abstractions, Options and the binder");
    }

    [Fact]
    public void Core_ProjectFileReferencesOnlyAllowedPackages()
    {
        var project = XDocument.Load(Path.Combine(Repo.Root, "src", "Core", "McpAuth.Core.csproj"));
        project.Descendants("ProjectReference").Should().BeEmpty("Core depends on no other project");
        project.Descendants("FrameworkReference").Should().BeEmpty("Core needs no shared framework (and NU1510 forbids it next to packages)");
        var packages = project.Descendants("PackageReference").Select(p => (string)p.Attribute("Include")!).ToList();
        packages.Should().Contain("Microsoft.Extensions.Hosting.Abstractions");
        packages.Should().OnlyContain(p => IsAllowedPackage(p));
        packages.Where(p => Forbidden.Any(f => p.StartsWith(f, StringComparison.OrdinalIgnoreCase))).Should().BeEmpty();
    }

    [Theory]
    [InlineData("Microsoft.Extensions.Hosting", false)]
    [InlineData("Microsoft.Extensions.Http", false)]
    [InlineData("Microsoft.AspNetCore.Authentication", false)]
    [InlineData("Microsoft.IdentityModel.Protocols.OpenIdConnect", false)]
    [InlineData("KubernetesClient", false)]
    [InlineData("Microsoft.Extensions.Hosting.Abstractions", true)]
    [InlineData("Microsoft.Extensions.Logging.Abstractions", true)]
    [InlineData("MediatR", true)]
    public void AllowList_RefusesHostsAndAdapters(string package, bool allowed)
    {
        // Guards the rule itself: a future edit that loosens it would make this fail.
        (IsAllowedPackage(package) && !Forbidden.Any(f => package.StartsWith(f, StringComparison.OrdinalIgnoreCase))).Should().Be(allowed);
    }
}
