using McpAuth.Caching;
using McpAuth.Dpop;
using McpAuth.Ports;
using McpAuth.Tokens;
using MediatR;
using Microsoft.Extensions.Options;

namespace McpAuth.Behaviors;

/// <summary>
/// Sender-constrained tokens (RFC 9449, the MCP DPoP extension). It stands after the issuer check, so the token's
/// <c>cnf.jkt</c> is trusted and no proof signature is checked for a forged token. A token bound to a key is refused as
/// Bearer (no downgrade); with <see cref="DpopMode.Required"/> every Bearer token is. A DPoP token needs a proof that
/// passes <see cref="DpopProofValidator"/>, whose key is the one the token is bound to, whose <c>jti</c> was not used
/// before (<see cref="IDpopReplayCache"/>), and, with <see cref="McpAuthOptions.DpopNonces"/>, that carries a current
/// server nonce.
/// </summary>
public sealed class DpopBehavior(
    IOptions<McpAuthOptions> options, DpopProofValidator validator, IDpopReplayCache replays, DpopNonces nonces, CacheKeys keys)
    : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    private readonly DpopMode _mode = options.Value.Dpop;
    private readonly bool _nonces = options.Value.DpopNonces;
    private readonly TimeSpan _lifetime = options.Value.DpopProofLifetime;

    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(next);
        var state = request.State;
        if (state.Token is not { } token)
        {
            return Task.FromResult(AuthenticationOutcome.NoCredentials);
        }

        if (state.Scheme == AuthorizationScheme.DPoP)
        {
            return CheckProofAsync(request, token, next);
        }

        if (token.ConfirmationThumbprint is not null || _mode == DpopMode.Required)
        {
            using var scope = StageScope.Begin<DpopBehavior>();
            return Task.FromResult(scope.Fail(AuthenticationErrorCode.InvalidToken, token.ConfirmationThumbprint is not null
                ? "The token is bound to a key (DPoP) and must be sent with the DPoP scheme and a proof."
                : "This server accepts DPoP-bound tokens only."));
        }

        return next();
    }

    private async Task<AuthenticationOutcome> CheckProofAsync(AuthenticateRequest request, ParsedToken token, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        using (var scope = StageScope.Begin<DpopBehavior>())
        {
            if (request.Dpop is not { } http)
            {
                return scope.Fail(AuthenticationErrorCode.Unavailable, "The server cannot check DPoP proofs here.");
            }

            if (token.ConfirmationThumbprint is not { Length: > 0 } bound)
            {
                return scope.Fail(AuthenticationErrorCode.InvalidToken, "The token is not bound to a key, so it cannot be sent with the DPoP scheme.");
            }

            var (proof, error) = await validator.ValidateAsync(http.Proof, http, token.Raw).ConfigureAwait(false);
            if (proof is null)
            {
                return scope.Fail(AuthenticationErrorCode.InvalidDpopProof, error!);
            }

            if (!string.Equals(proof.Thumbprint, bound, StringComparison.Ordinal))
            {
                return scope.Fail(AuthenticationErrorCode.InvalidDpopProof, "The DPoP proof is signed with another key than the one the token is bound to.");
            }

            if (_nonces && !nonces.IsValid(proof.Nonce))
            {
                return scope.Fail(AuthenticationErrorCode.UseDpopNonce, "The DPoP proof must carry the server's current nonce.");
            }

            // The jti is remembered until the proof could no longer be accepted (iat + window), per key: another client's
            // jti never collides with this one's.
            if (!await replays.TryUseAsync(keys.OfParts("dpop-jti", proof.Thumbprint, proof.Jti), proof.IssuedAt + _lifetime, CancellationToken.None).ConfigureAwait(false))
            {
                return scope.Fail(AuthenticationErrorCode.InvalidDpopProof, "The DPoP proof was already used.");
            }

            request.State.ProofKeyThumbprint = proof.Thumbprint;
            scope.Pass();
        }

        return await next().ConfigureAwait(false);
    }
}
