using System.ComponentModel;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using ModelContextProtocol.Server;

namespace McpAuth.AspNetCore.Tests;

/// <summary>Which tools ran, per app: the proof that a refused request never reached a tool.</summary>
public sealed class ToolRuns
{
    private readonly List<string> _runs = [];

    public IReadOnlyList<string> All
    {
        get
        {
            lock (_runs)
            {
                return _runs.ToArray();
            }
        }
    }

    public int Count(string tool) => All.Count(r => r == tool);

    public void Add(string tool)
    {
        lock (_runs)
        {
            _runs.Add(tool);
        }
    }
}

[McpServerToolType]
public static class TestTools
{
    [McpServerTool(Name = "whoami"), Description("Who the caller is.")]
    public static string WhoAmI(ToolRuns runs, IHttpContextAccessor accessor, [Description("cluster")] string? context = null)
    {
        runs.Add("whoami");
        var feature = accessor.HttpContext?.Features.Get<McpAuthFeature>();
        return JsonSerializer.Serialize(new { subject = feature?.Principal.Subject, context, effective = feature?.EffectiveToken });
    }

    [McpServerTool(Name = "admin-action"), Description("Needs mcp:admin.")]
    public static string AdminAction(ToolRuns runs, [Description("cluster")] string? context = null)
    {
        runs.Add("admin-action");
        return "done:" + context;
    }
}
