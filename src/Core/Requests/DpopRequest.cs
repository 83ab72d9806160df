namespace McpAuth;

/// <summary>
/// What the DPoP stage needs from the HTTP request (RFC 9449 §4.3): the <c>DPoP</c> proof header and the request it must
/// be bound to. The host adapter sets it on <see cref="AuthenticateRequest.Dpop"/> when DPoP is not off.
/// </summary>
/// <param name="Proof">The <c>DPoP</c> header (null when absent; a request with several is given the joined value, which fails).</param>
/// <param name="Method">The HTTP method (<c>htm</c>).</param>
/// <param name="Uri">The request's absolute URI without query and fragment, as the client addressed it (<c>htu</c>).</param>
public sealed record DpopRequest(string? Proof, string Method, string Uri)
{
    /// <inheritdoc />
    public override string ToString() => $"DpopRequest {{ Method = {Method}, Uri = {Uri}, Proof = {(Proof is null ? "none" : "present")} }}";
}
