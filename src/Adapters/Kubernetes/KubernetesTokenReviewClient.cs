using k8s;
using k8s.Autorest;
using k8s.Models;
using McpAuth.Diagnostics;
using McpAuth.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Kubernetes;

/// <summary>
/// <see cref="ITokenReviewClient"/> with the real KubernetesClient: <c>POST /apis/authentication.k8s.io/v1/tokenreviews</c>
/// on the target context with the server's own credentials; <c>spec.audiences</c> omitted when none are requested.
/// Unknown context → invalid request; <c>authenticated: false</c> → rejected; any API-server failure → unavailable.
/// </summary>
public sealed class KubernetesTokenReviewClient(
    KubernetesClusters clusters, IOptions<KubernetesTokenReviewOptions> options, ILogger<KubernetesTokenReviewClient> logger) : ITokenReviewClient
{
    private readonly TimeSpan _timeout = options.Value.TokenReviewTimeout;

    /// <inheritdoc />
    public async ValueTask<TokenReviewResult> ReviewAsync(TokenReviewRequest request, CancellationToken cancellationToken)
    {
        k8s.Kubernetes? client;
        try
        {
            client = clusters.ClientFor(request.Target);
        }
        catch (Exception ex) when (ex is k8s.Exceptions.KubeConfigException or IOException or UnauthorizedAccessException or ArgumentException or FormatException)
        {
            Log.ReviewFailed(logger, LogValue.Clean(request.Target, 64), "the kubeconfig could not be loaded: " + ex.GetType().Name);
            return TokenReviewResult.Unavailable("The kubeconfig could not be loaded.");
        }

        if (client is null)
        {
            return clusters.Configured
                ? TokenReviewResult.UnknownTarget($"Unknown cluster context '{Sanitize(request.Target)}'.")
                : TokenReviewResult.Unavailable("No kubeconfig or in-cluster configuration.");
        }

        var body = new V1TokenReview
        {
            ApiVersion = "authentication.k8s.io/v1",
            Kind = "TokenReview",
            Spec = new V1TokenReviewSpec
            {
                Token = request.Token,
                Audiences = request.Audiences.Count > 0 ? request.Audiences.ToList() : null,
            },
        };

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            // WaitAsync as well as the token: the deadline holds whatever the client does after the send.
            var review = await client.AuthenticationV1.CreateTokenReviewAsync(body, cancellationToken: timeout.Token)
                .WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
            var status = review?.Status;
            if (status?.Authenticated is not bool authenticated)
            {
                // No verdict ({}, a proxy's JSON, a status without 'authenticated'): the review did not happen. Unavailable,
                // never "not authenticated" — that would be cached and refuse a good token for the rejection TTL.
                Log.ReviewFailed(logger, LogValue.Clean(request.Target, 64), "the answer has no status.authenticated");
                return TokenReviewResult.Unavailable("The API server's answer has no verdict.");
            }

            if (!authenticated || status.User is null)
            {
                return TokenReviewResult.NotAuthenticated("The cluster did not authenticate the token.");
            }

            var user = new ClusterUser(
                status.User.Username ?? string.Empty,
                status.User.Uid,
                status.User.Groups?.ToArray() ?? [],
                status.User.Extra?.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value.ToArray(), StringComparer.Ordinal)
                    ?? new Dictionary<string, IReadOnlyList<string>>());
            return TokenReviewResult.Authenticated(user, status.Audiences?.ToArray() ?? []);
        }
        catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or IOException or OperationCanceledException or TimeoutException
                                           or System.Text.Json.JsonException or InvalidOperationException
                                       && !cancellationToken.IsCancellationRequested)
        {
            var reason = ex switch
            {
                HttpOperationException h => $"HTTP {(int)h.Response.StatusCode}",
                OperationCanceledException or TimeoutException => $"timed out after {_timeout.TotalSeconds:0.#} s",
                _ => ex.GetType().Name,
            };
            Log.ReviewFailed(logger, LogValue.Clean(request.Target, 64), reason);
            return TokenReviewResult.Unavailable(reason);
        }
    }

    internal static string Sanitize(string value) =>
        new(value.Take(64).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '@' or '/' ? c : '?').ToArray());
}
