using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Flare.Data;

/// <summary>
/// Lets <c>dotnet ef</c> build the model without starting Flare's host. SQLite by default:
/// <c>dotnet ef migrations add NAME --project migrations/Sqlite --startup-project Flare.Web --output-dir . --namespace Flare.Data.Migrations.Sqlite</c>;
/// PostgreSQL with <c>-- --provider postgres</c> after
/// <c>--project migrations/Postgres … --namespace Flare.Data.Migrations.Postgres</c> (no server is contacted to add a migration).
/// </summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<FlareDbContext>
{
    public FlareDbContext CreateDbContext(string[] args)
    {
        var postgres = args.SkipWhile(a => a != "--provider").Skip(1).FirstOrDefault() is { } p && p.Equals("postgres", StringComparison.OrdinalIgnoreCase);
        var settings = postgres
            ? DatabaseSettings.Postgres("Host=localhost;Database=flare_design_time")
            : DatabaseSettings.Sqlite(Path.Combine(Path.GetTempPath(), "flare-design-time.db"));
        var options = new DbContextOptionsBuilder<FlareDbContext>();
        FlareDataExtensions.UseProvider(options, settings);
        return new(options.Options);
    }
}
