using Flare.Data.Registry;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Data;

public static class FlareDataExtensions
{
    /// <summary>
    /// Adds Flare's database on SQLite at <paramref name="databasePath"/>, the registry store and its
    /// change signal. The busy timeout lets concurrent writers wait rather than fail.
    /// </summary>
    public static IServiceCollection AddFlareSqlite(this IServiceCollection services, string databasePath)
    {
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            DefaultTimeout = 30,
            Pooling = true,
        }.ToString();

        services.AddDbContextFactory<FlareDbContext>(o => o.UseSqlite(connectionString, sql => sql.MigrationsAssembly(typeof(FlareDbContext).Assembly.FullName)));
        services.AddSingleton<RegistryChangeSignal>();
        services.AddSingleton<RegistryStore>();
        services.AddSingleton(TimeProvider.System);
        return services;
    }

    /// <summary>
    /// Applies pending migrations and switches SQLite to write-ahead logging (readers never block the
    /// writer; the setting persists in the file).
    /// </summary>
    public static async Task MigrateAsync(this FlareDbContext db, CancellationToken ct = default)
    {
        await db.Database.MigrateAsync(ct);
        if (db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
        }
    }
}
