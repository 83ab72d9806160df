using System.ComponentModel;
using System.Text.Json;
using McpAuth.AspNetCore;
using Microsoft.AspNetCore.Http;
using ModelContextProtocol.Server;

namespace McpAuth.Host;

/// <summary>
/// <c>--demo</c> only: a tool that needs one more scope than <c>whoami</c> (McpAuth <c>ToolScopes</c>:
/// <c>admin-action</c> needs <c>mcp:admin</c>), so a client sees 403 <c>insufficient_scope</c> and authorizes again for
/// the larger scope (step-up). It changes nothing; it reports who ran it and with which scopes.
/// </summary>
[McpServerToolType]
public static class AdminActionTool
{
    /// <summary>The tool's name, as McpAuth's <c>ToolScopes</c> key.</summary>
    public const string Name = "admin-action";

    /// <summary>The tool.</summary>
    [McpServerTool(Name = Name, Idempotent = true), Description("Demo step-up tool: needs the mcp:admin scope. Changes nothing; reports who ran it and with which scopes.")]
    public static string AdminAction(IHttpContextAccessor accessor)
    {
        var principal = accessor.HttpContext?.Features.Get<McpAuthFeature>()?.Principal;
        return JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["action"] = Name,
            ["done"] = true,
            ["subject"] = principal?.Subject,
            ["scopes"] = principal?.Scopes ?? [],
        });
    }
}
