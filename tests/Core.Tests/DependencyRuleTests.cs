namespace McpAuth.Core.Tests;

public class DependencyRuleTests
{
    private static readonly string[] Forbidden =
    [
        "Microsoft.AspNetCore", "System.Net.Http", "Microsoft.Extensions.Http", "Microsoft.IdentityModel.Protocols",
        "KubernetesClient", "k8s", "Duende", "ModelContextProtocol", "McpAuth.Adapters", "McpAuth.Host",
    ];

    [Fact]
    public void Core_ReferencesNoWebHttpOidcProtocolOrKubernetesAssembly()
    {
        var references = typeof(AuthenticateRequest).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        references.Should().Contain("MediatR");
        references.Where(r => Forbidden.Any(f => r.StartsWith(f, StringComparison.OrdinalIgnoreCase))).Should().BeEmpty();
    }

    [Fact]
    public void Core_ProjectFileReferencesNoForbiddenPackage()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "McpAuth.sln")))
        {
            dir = dir.Parent;
        }

        dir.Should().NotBeNull("the tests run inside the repository");
        var project = File.ReadAllText(Path.Combine(dir!.FullName, "src", "Core", "McpAuth.Core.csproj"));
        project.Should().NotContain("ProjectReference");
        project.Should().NotContain("FrameworkReference");
        foreach (var f in Forbidden)
        {
            project.Should().NotContain($"Include=\"{f}", f);
        }
    }
}
