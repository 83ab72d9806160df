namespace McpAuth;

/// <summary>
/// One party in a delegation chain: an <c>act</c> (actor) claim of RFC 8693 §4.1. The first actor of a chain is the
/// current one (the outermost <c>act</c>); each next one acted before it (a nested <c>act</c>).
/// </summary>
/// <param name="Subject">The actor's <c>sub</c>.</param>
/// <param name="Issuer">The actor's <c>iss</c>, when the claim names one.</param>
/// <param name="ClientId">The actor's <c>client_id</c>, when the claim names one.</param>
public sealed record TokenActor(string? Subject, string? Issuer, string? ClientId);
