using System.ComponentModel;
using System.Text.Json;
using k8s;
using k8s.Models;
using McpAuth.AspNetCore;
using McpAuth.Kubernetes;
using McpAuth.Tokens;
using Microsoft.AspNetCore.Http;
using ModelContextProtocol.Server;

namespace McpAuth.Host;

/// <summary>
/// The one tool: who the caller is, to McpAuth and to the cluster. The cluster's view is a SelfSubjectReview made with
/// the effective (possibly exchanged) token, so it shows what token downstream calls carry. After an exchange whose token
/// carries RFC 8693 <c>act</c> claims, <c>actors</c> lists who acts for the subject, the current actor first.
/// </summary>
[McpServerToolType]
public static class WhoAmITool
{
    /// <summary>The tool.</summary>
    [McpServerTool(Name = "whoami", ReadOnly = true, Idempotent = true), Description("Shows who you are: token subject, issuer, scopes, audiences, whether the token was exchanged and who acts for you downstream (the exchanged token's act claim), and the cluster's view of you (SelfSubjectReview).")]
    public static async Task<string> WhoAmI(
        IHttpContextAccessor accessor,
        IServiceProvider services,
        [Description("Kubeconfig context (cluster) to ask; empty for the current context.")] string? context = null,
        CancellationToken cancellationToken = default)
    {
        var http = accessor.HttpContext;
        var principal = http?.Features.Get<McpAuthFeature>()?.Principal;
        var token = principal?.EffectiveToken ?? BearerOf(http);
        var target = context ?? string.Empty;
        object? cluster = null;
        var clusters = services.GetService(typeof(KubernetesClusters)) as KubernetesClusters;
        if (clusters is { Configured: true } && token is not null)
        {
            cluster = await SelfSubjectReviewAsync(clusters, target, token, cancellationToken);
        }

        return JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["subject"] = principal?.Subject,
            ["issuer"] = principal?.Issuer,
            ["scopes"] = principal?.Scopes ?? [],
            ["audiences"] = principal?.Audiences ?? [],
            ["exchanged"] = principal?.Exchanged ?? false,
            ["actors"] = (principal?.Actors ?? []).Select(a => new Dictionary<string, string?> { ["sub"] = a.Subject, ["iss"] = a.Issuer, ["client_id"] = a.ClientId }).ToList(),
            ["context"] = target,
            ["cluster"] = cluster,
        });
    }

    private static async Task<object> SelfSubjectReviewAsync(KubernetesClusters clusters, string target, string token, CancellationToken cancellationToken)
    {
        var client = clusters.AnonymousClientFor(target);
        if (client is null)
        {
            return new Dictionary<string, object?> { ["error"] = "Unknown cluster context." };
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            var headers = new Dictionary<string, IReadOnlyList<string>> { ["Authorization"] = ["Bearer " + token] };
            using var response = await client.AuthenticationV1.CreateSelfSubjectReviewWithHttpMessagesAsync(
                new V1SelfSubjectReview { ApiVersion = "authentication.k8s.io/v1", Kind = "SelfSubjectReview" },
                customHeaders: headers, cancellationToken: timeout.Token);
            var user = response.Body?.Status?.UserInfo;
            return new Dictionary<string, object?>
            {
                ["username"] = user?.Username,
                ["uid"] = user?.Uid,
                ["groups"] = user?.Groups ?? [],
            };
        }
        catch (Exception ex) when (ex is k8s.Autorest.HttpOperationException or HttpRequestException or OperationCanceledException)
        {
            var status = ex is k8s.Autorest.HttpOperationException h ? $"HTTP {(int)h.Response.StatusCode}" : ex is OperationCanceledException ? "timed out" : "unreachable";
            return new Dictionary<string, object?> { ["error"] = "The cluster's SelfSubjectReview failed: " + status + "." };
        }
    }

    private static string? BearerOf(HttpContext? http)
    {
        var header = http?.Request.Headers.Authorization.ToString();
        return header is not null && BearerToken.TryGet(header, out var token) && !token.IsEmpty ? token.ToString() : null;
    }
}
