using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Flare.Data;

/// <summary>
/// Lets <c>dotnet ef</c> build the model without starting Flare's host:
/// <c>dotnet ef migrations add NAME --project migrations/Sqlite --startup-project Flare.Web --output-dir . --namespace Flare.Data.Migrations.Sqlite</c>.
/// </summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<FlareDbContext>
{
    public FlareDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<FlareDbContext>()
            .UseSqlite($"Data Source={Path.Combine(Path.GetTempPath(), "flare-design-time.db")}",
                sql => sql.MigrationsAssembly(FlareDataExtensions.SqliteMigrationsAssembly))
            .Options);
}
