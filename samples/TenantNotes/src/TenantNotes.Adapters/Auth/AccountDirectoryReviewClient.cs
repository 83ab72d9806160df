using McpAuth;
using McpAuth.Ports;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace TenantNotes.Adapters.Auth;

/// <summary>
/// This service's own adapter of McpAuth's <see cref="ITokenReviewClient"/> port, instead of a Kubernetes TokenReview:
/// the token's subject must be an account of the service's account directory (<c>TenantNotes:Accounts</c>), and the
/// review returns that account. McpAuth runs it (with <c>ValidateToken</c> on) after the issuer verified the token, so
/// the subject read here is the verified one. There is one directory, so any named target is unknown (400).
/// </summary>
public sealed class AccountDirectoryReviewClient(IOptions<TenantNotesOptions> options) : ITokenReviewClient
{
    public const string AccountsGroup = "tenant-notes:accounts";

    private static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> NoExtra = new Dictionary<string, IReadOnlyList<string>>();

    public ValueTask<TokenReviewResult> ReviewAsync(TokenReviewRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Target.Length > 0)
        {
            return ValueTask.FromResult(TokenReviewResult.UnknownTarget("This service has one account directory and no other target."));
        }

        string? subject;
        try
        {
            subject = new JsonWebToken(request.Token).Subject;
        }
        catch (ArgumentException)
        {
            return ValueTask.FromResult(TokenReviewResult.NotAuthenticated("The token is not a JWT."));
        }

        if (string.IsNullOrEmpty(subject) || !options.Value.Accounts.TryGetValue(subject, out var account))
        {
            return ValueTask.FromResult(TokenReviewResult.NotAuthenticated("The token's subject is not an account of this service."));
        }

        // The directory has no audiences of its own: the issuer stage already checked the token's audience, so the
        // review confirms the ones McpAuth asked for.
        return ValueTask.FromResult(TokenReviewResult.Authenticated(new ClusterUser(account, subject, [AccountsGroup], NoExtra), request.Audiences));
    }
}
