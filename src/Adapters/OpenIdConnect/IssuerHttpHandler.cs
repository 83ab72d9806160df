using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace McpAuth.OpenIdConnect;

/// <summary>
/// The primary handler of the issuer/STS <see cref="HttpClient"/>: connect timeout, no redirects, no cookies, and, with
/// <c>CertificateAuthority</c>, the PEM file's certificates as the only trust roots.
/// </summary>
internal static class IssuerHttpHandler
{
    public static SocketsHttpHandler Create(string? certificateAuthority, TimeSpan connectTimeout)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = connectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AllowAutoRedirect = false,
            UseCookies = false,
            MaxResponseDrainSize = 64 * 1024,
        };
        if (!string.IsNullOrEmpty(certificateAuthority))
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(certificateAuthority);
            if (roots.Count == 0)
            {
                throw new InvalidOperationException($"CertificateAuthority '{certificateAuthority}' holds no PEM certificate.");
            }

            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                ValidateAgainst(roots, certificate, errors);
        }

        return handler;
    }

    internal static bool ValidateAgainst(X509Certificate2Collection roots, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
