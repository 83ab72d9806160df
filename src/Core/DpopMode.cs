namespace McpAuth;

/// <summary>Whether DPoP-bound tokens (RFC 9449) are accepted.</summary>
public enum DpopMode
{
    /// <summary>Only Bearer tokens; an <c>Authorization: DPoP</c> header is not understood (no credentials).</summary>
    Off,

    /// <summary>Bearer and DPoP. A token bound to a key (<c>cnf.jkt</c>) must come with a valid proof: never as Bearer.</summary>
    Allowed,

    /// <summary>Only DPoP-bound tokens with a valid proof.</summary>
    Required,
}
