using Flare.Data.Registry;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Data;

public static class FlareDataExtensions
{
    /// <summary>The assembly built from <c>migrations/Sqlite</c>.</summary>
    public const string SqliteMigrationsAssembly = "Flare.Migrations.Sqlite";

    /// <summary>
    /// Adds Flare's database on SQLite, the registry store and its change signal. The file's path is
    /// resolved when the first context is created (so configuration applied late, as tests do, counts);
    /// its folder is created then. The busy timeout lets concurrent writers wait rather than fail.
    /// </summary>
    public static IServiceCollection AddFlareSqlite(this IServiceCollection services, Func<IServiceProvider, string> databasePath)
    {
        services.AddDbContextFactory<FlareDbContext>((sp, o) =>
        {
            var path = databasePath(sp);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var connectionString = new SqliteConnectionStringBuilder
            {
                DataSource = path,
                DefaultTimeout = 30,
                Pooling = true,
            }.ToString();
            o.UseSqlite(connectionString, sql => sql.MigrationsAssembly(SqliteMigrationsAssembly));
            if (sp.GetService<Security.ISecretProtector>() is { } protector)
            {
                // One interceptor per host (its key ring is the host's). EF Core builds an internal service provider per
                // distinct interceptor, which is one per host — many only when a test process starts many hosts.
                o.AddInterceptors(new Security.SecretsInterceptor(protector));
                o.ConfigureWarnings(w => w.Ignore(Microsoft.EntityFrameworkCore.Diagnostics.CoreEventId.ManyServiceProvidersCreatedWarning));
            }
        });
        services.AddSingleton<RegistryChangeSignal>();
        services.AddSingleton<RegistryStore>();
        services.AddSingleton<Gateway.ApiKeyChangeSignal>();
        services.AddSingleton<Gateway.ApiKeyStore>();
        services.AddSingleton<Profiling.ProfilingChangeSignal>();
        services.AddSingleton<Profiling.ProfilingStore>();
        services.AddSingleton<Plans.PlanChangeSignal>();
        services.AddSingleton<Plans.PlanStore>();
        services.AddSingleton<History.HistoryChangeSignal>();
        services.AddSingleton<History.HistoryStore>();
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
