using Microsoft.EntityFrameworkCore;

namespace McpAuth.Host.Demo;

/// <summary>
/// The demo authorization server's store: OpenIddict's applications, authorizations, scopes and tokens, in a SQLite
/// database that lives in memory for the life of the process (nothing is written to disk).
/// </summary>
internal sealed class DemoDbContext(DbContextOptions<DemoDbContext> options) : DbContext(options);
