using System.Security.Claims;

namespace McpAuth.AspNetCore;

/// <summary>
/// The identity of an authenticated request. The token's claims are shared by every request of the same token (parsed
/// once, kept by the validated-token cache), so they are not copied per request; what an app adds to this identity
/// (<c>AddClaim</c>, claims transformation) lives in this request's identity only. A shared claim cannot be removed.
/// </summary>
internal sealed class TokenClaimsIdentity(IReadOnlyList<Claim> tokenClaims, string authenticationType, string nameType, string roleType)
    : ClaimsIdentity(authenticationType, nameType, roleType)
{
    public override IEnumerable<Claim> Claims
    {
        get
        {
            for (var i = 0; i < tokenClaims.Count; i++)
            {
                yield return tokenClaims[i];
            }

            foreach (var claim in base.Claims)
            {
                yield return claim;
            }
        }
    }

    public override ClaimsIdentity Clone() =>
        new(Claims, AuthenticationType, NameClaimType, RoleClaimType) { Actor = Actor?.Clone(), BootstrapContext = BootstrapContext, Label = Label };

    public override void RemoveClaim(Claim? claim)
    {
        if (claim is not null && tokenClaims.Contains(claim))
        {
            throw new InvalidOperationException("A claim of the token cannot be removed from the identity McpAuth made.");
        }

        base.RemoveClaim(claim);
    }
}
