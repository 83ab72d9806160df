using System.Collections.Frozen;
using McpAuth.Caching;
using McpAuth.Diagnostics;
using MediatR;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace McpAuth.Behaviors;

/// <summary>
/// Stage 1: finds the bearer token in the Authorization header and parses it as a compact JWS without verifying it.
/// No header, or another scheme → no credentials. Oversized, malformed or unsupported-algorithm tokens → invalid token.
/// </summary>
/// <remarks>
/// A token found in the <see cref="ValidatedTokenCache"/> (verified by the issuer earlier) is not parsed again: the
/// state is filled from the cache and marked as verified. Offline checks still run on it.
/// </remarks>
public sealed class ParseBearerTokenBehavior(IOptions<McpAuthOptions> options, ValidatedTokenCache? cache = null)
    : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    private const string Scheme = "Bearer";

    /// <summary>The JWS algorithms a token may name (the original's list); <c>none</c> and anything else are refused.</summary>
    public static readonly FrozenSet<string> SupportedAlgorithms = FrozenSet.ToFrozenSet(
        ["EdDSA", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"],
        StringComparer.Ordinal);

    private readonly int _maxTokenLength = options.Value.MaxTokenBytes;

    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        if (!TryGetBearerToken(request.Authorization, out var token))
        {
            return Task.FromResult(AuthenticationOutcome.NoCredentials);
        }

        using (var activity = McpAuthDiagnostics.StartStage("McpAuth." + Stage.ParseBearerToken))
        {
            if (cache is { Enabled: true } && token.Length <= _maxTokenLength && cache.TryGet(token, out var validated))
            {
                FromCache(validated, request.State);
                Stage.Pass(activity, "cached");
            }
            else if (Parse(token, request.State) is { } error)
            {
                return Task.FromResult(Stage.Fail(activity, Stage.ParseBearerToken, AuthenticationErrorCode.InvalidToken, error));
            }
            else
            {
                Stage.Pass(activity);
            }
        }

        return next();
    }

    /// <summary>Extracts the token of a <c>Bearer</c> header (scheme case-insensitive). False when there is no bearer token at all.</summary>
    public static bool TryGetBearerToken(string? authorization, out ReadOnlySpan<char> token)
    {
        token = default;
        if (string.IsNullOrEmpty(authorization))
        {
            return false;
        }

        var value = authorization.AsSpan().Trim();
        if (value.Length < Scheme.Length
            || !value[..Scheme.Length].Equals(Scheme, StringComparison.OrdinalIgnoreCase)
            || (value.Length > Scheme.Length && value[Scheme.Length] != ' '))
        {
            return false;
        }

        token = value[Scheme.Length..].Trim(' ');
        return true;
    }

    private string? Parse(ReadOnlySpan<char> token, AuthenticationState state)
    {
        if (token.IsEmpty)
        {
            return "The bearer token is empty.";
        }

        if (token.Length > _maxTokenLength)
        {
            return $"The bearer token is longer than {_maxTokenLength} bytes.";
        }

        if (token.Count('.') != 2)
        {
            return "The bearer token is not a JWT (it must have exactly three dot-separated parts).";
        }

        var index = 0;
        foreach (var part in token.Split('.'))
        {
            var text = token[part];
            if (text.IsEmpty || !IsBase64Url(text) || (index < 2 && !StartsWithJsonObject(text)))
            {
                return "The bearer token is not a JWT (its parts are not base64url JSON).";
            }

            index++;
        }

        JsonWebToken jwt;
        var raw = token.ToString();
        try
        {
            jwt = new JsonWebToken(raw);
            if (!SupportedAlgorithms.Contains(jwt.Alg ?? string.Empty))
            {
                return "The bearer token's signing algorithm is not accepted.";
            }

            state.ExpiresAt = ToDate(jwt, JwtRegisteredClaimNames.Exp);
            state.NotBefore = ToDate(jwt, JwtRegisteredClaimNames.Nbf);
            state.IssuedAt = ToDate(jwt, JwtRegisteredClaimNames.Iat);
            state.Audiences = jwt.Audiences as IReadOnlyList<string> ?? jwt.Audiences.ToArray();
            state.Scopes = ReadScopes(jwt);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException or System.Text.Json.JsonException
                                       or Microsoft.IdentityModel.Tokens.SecurityTokenException)
        {
            return "The bearer token is not a JWT (its header or payload is not valid base64url JSON).";
        }

        state.RawToken = raw;
        state.Token = jwt;
        state.EffectiveToken = raw;
        state.EffectiveTokenExpiresAt = state.ExpiresAt;
        return null;
    }

    private static void FromCache(ValidatedToken validated, AuthenticationState state)
    {
        state.RawToken = validated.Raw;
        state.Token = validated.Token;
        state.EffectiveToken = validated.Raw;
        state.ExpiresAt = validated.ExpiresAt;
        state.EffectiveTokenExpiresAt = validated.ExpiresAt;
        state.NotBefore = validated.NotBefore;
        state.IssuedAt = validated.IssuedAt;
        state.Scopes = validated.Scopes;
        state.Audiences = validated.Audiences;
        state.VerifiedByIssuer = true;
    }

    // Header and payload must decode to a JSON object: checking the first decoded byte refuses most garbage without
    // the exception that a full parse would throw (exceptions cost microseconds on the hot path).
    private static bool StartsWithJsonObject(ReadOnlySpan<char> part)
    {
        Span<byte> first = stackalloc byte[3];
        return part.Length >= 4
               && System.Buffers.Text.Base64Url.TryDecodeFromChars(part[..4], first, out var written)
               && written > 0 && first[0] == (byte)'{';
    }

    private static bool IsBase64Url(ReadOnlySpan<char> part)
    {
        foreach (var c in part)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_'))
            {
                return false;
            }
        }

        return part.Length % 4 != 1;
    }

    private static DateTimeOffset? ToDate(JsonWebToken jwt, string claim)
    {
        if (!jwt.TryGetPayloadValue<object>(claim, out var value) || value is null)
        {
            return null;
        }

        var seconds = value switch
        {
            long l => l,
            int i => i,
            double d when !double.IsNaN(d) && !double.IsInfinity(d) => (long)Math.Floor(d),
            decimal m => (long)Math.Floor(m),
            _ => throw new FormatException($"The '{claim}' claim is not a number."),
        };
        const long maxSeconds = 253402300799; // 9999-12-31T23:59:59Z
        return DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, maxSeconds));
    }

    private static IReadOnlyList<string> ReadScopes(JsonWebToken jwt)
    {
        List<string>? scopes = null;
        if (jwt.TryGetPayloadValue<string>("scope", out var scope) && !string.IsNullOrWhiteSpace(scope))
        {
            foreach (var s in scope.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                Add(ref scopes, s);
            }
        }

        if (jwt.TryGetPayloadValue<List<string>>("scp", out var scpList) && scpList is not null)
        {
            foreach (var s in scpList)
            {
                if (!string.IsNullOrWhiteSpace(s))
                {
                    Add(ref scopes, s);
                }
            }
        }
        else if (jwt.TryGetPayloadValue<string>("scp", out var scpText) && !string.IsNullOrWhiteSpace(scpText))
        {
            foreach (var s in scpText.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                Add(ref scopes, s);
            }
        }

        return scopes is null ? [] : scopes;

        static void Add(ref List<string>? list, string scope)
        {
            list ??= new List<string>(4);
            if (!list.Contains(scope))
            {
                list.Add(scope);
            }
        }
    }
}
