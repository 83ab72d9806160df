using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.OpenIdConnect.Exchange;

/// <summary>
/// Reads the delegation chain of an exchanged JWT: its <c>act</c> claim (RFC 8693 §4.1), the current actor first, then
/// each nested <c>act</c> (who acted before). The token comes from the token service over the connection McpAuth opened,
/// so it is read, not verified. An opaque token, or one without <c>act</c>, has no chain.
/// </summary>
internal static class ActorChain
{
    // Chains deeper than this are cut: no real delegation is, and a token is no place for unbounded work.
    private const int MaxDepth = 8;
    private const int MaxValueLength = 256;

    public static IReadOnlyList<TokenActor> Read(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return [];
        }

        try
        {
            using var payload = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(parts[1]));
            if (payload.RootElement.ValueKind != JsonValueKind.Object)
            {
                return [];
            }

            var actors = new List<TokenActor>();
            var element = payload.RootElement;
            while (actors.Count < MaxDepth && element.TryGetProperty("act", out var act) && act.ValueKind == JsonValueKind.Object)
            {
                actors.Add(new TokenActor(String(act, "sub"), String(act, "iss"), String(act, "client_id")));
                element = act;
            }

            return actors;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException)
        {
            return [];
        }
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: <= MaxValueLength } s ? s : null;
}
