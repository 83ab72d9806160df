using McpAuth.Behaviors;
using McpAuth.Ports;
using Microsoft.Extensions.DependencyInjection.Extensions;
using TenantNotes.Adapters;
using TenantNotes.Adapters.Auth;
using TenantNotes.Adapters.Mcp;
using TenantNotes.Adapters.Persistence;
using TenantNotes.Adapters.Tenancy;
using TenantNotes.Application;

namespace TenantNotes.Host;

/// <summary>The composition root. <c>Program</c> runs it; the end-to-end tests start it on Kestrel in their own process.</summary>
public static class TenantNotesApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder);

        // Domain and application, with their driven adapters.
        builder.Services.AddOptions<TenantNotesOptions>().Bind(builder.Configuration.GetSection(TenantNotesOptions.SectionName))
            .Validate(o => o.Tenants.Count > 0, "TenantNotes:Tenants must name at least one tenant.").ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<INoteStore, InMemoryNoteStore>();
        builder.Services.AddSingleton<ITenantDirectory, ConfiguredTenantDirectory>();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddScoped<ICurrentCaller, HttpCurrentCaller>();
        builder.Services.AddScoped<NotesService>();

        // McpAuth, registered as its README shows. AuthorizationUrl and ServerUrl come from the "McpAuth" section
        // (appsettings.json, McpAuth__* environment variables, --McpAuth:... arguments).
        builder.Services.AddAuthentication().AddMcpAuth(o =>
        {
            o.RequiredScopes.Add("notes:read");
            o.ToolScopes[NoteTools.AddNote] = ["notes:write"]; // step-up: writing needs one more scope
            o.ValidateToken = true;                             // every token is reviewed by the account directory (below)
        });
        // A stage of our own, just after the issuer verified the token: the token's tenant must be one we serve.
        builder.Services.AddMcpAuth().InsertStageAfter<OidcProviderValidationBehavior, TenantCheckBehavior>();
        // A port of our own: the account directory reviews tokens instead of a Kubernetes TokenReview.
        builder.Services.Replace(ServiceDescriptor.Singleton<ITokenReviewClient, AccountDirectoryReviewClient>());
        builder.Services.AddAuthorization();
        builder.Services.AddHealthChecks().AddMcpAuthChecks();
        builder.Services.AddMcpServer().WithHttpTransport().WithTools<NoteTools>();

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapMcp("/mcp").RequireMcpAuth();
        app.MapMcpAuthMetadata();
        app.MapHealthChecks("/healthz", new() { Predicate = c => c.Tags.Contains("live") });
        app.MapHealthChecks("/readyz", new() { Predicate = c => c.Tags.Contains("ready") });
        return app;
    }
}
