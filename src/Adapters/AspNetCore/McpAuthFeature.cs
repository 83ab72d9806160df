namespace McpAuth.AspNetCore;

/// <summary>What downstream code sees of a request McpAuth authenticated (<c>HttpContext.Features.Get&lt;McpAuthFeature&gt;()</c>).</summary>
/// <param name="Principal">The authenticated caller.</param>
public sealed record McpAuthFeature(McpPrincipal Principal)
{
    /// <summary>The token to use downstream: exchanged, or the caller's own. Never log it.</summary>
    public string EffectiveToken => Principal.EffectiveToken;
}
