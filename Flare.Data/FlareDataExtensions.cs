using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Flare.Data.Registry;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Data;

/// <summary>The database engines Flare runs on.</summary>
public enum DatabaseProvider
{
    /// <summary>One file beside Flare: the embedded default for a single host.</summary>
    Sqlite,

    /// <summary>A PostgreSQL server several Flare hosts share.</summary>
    Postgres,
}

/// <summary>Which database a host uses: the provider and, for SQLite, the file, for PostgreSQL, the connection string.</summary>
public sealed record DatabaseSettings(DatabaseProvider Provider, string Target)
{
    public static DatabaseSettings Sqlite(string path) => new(DatabaseProvider.Sqlite, path);

    public static DatabaseSettings Postgres(string connectionString) => new(DatabaseProvider.Postgres, connectionString);
}

public static class FlareDataExtensions
{
    /// <summary>The assembly built from <c>migrations/Sqlite</c>.</summary>
    public const string SqliteMigrationsAssembly = "Flare.Migrations.Sqlite";

    /// <summary>The assembly built from <c>migrations/Postgres</c>.</summary>
    public const string PostgresMigrationsAssembly = "Flare.Migrations.Postgres";

    /// <summary>Adds Flare's database on SQLite; see <see cref="AddFlareDatabase"/>.</summary>
    public static IServiceCollection AddFlareSqlite(this IServiceCollection services, Func<IServiceProvider, string> databasePath) =>
        services.AddFlareDatabase(sp => DatabaseSettings.Sqlite(databasePath(sp)));

    /// <summary>
    /// Adds Flare's database, the stores and their change signals. The settings are resolved when the first context is
    /// created (so configuration applied late, as tests do, counts). SQLite: the file's folder is created then, and the
    /// busy timeout lets concurrent writers wait rather than fail. PostgreSQL: the connection string as given.
    /// </summary>
    public static IServiceCollection AddFlareDatabase(this IServiceCollection services, Func<IServiceProvider, DatabaseSettings> settings)
    {
        services.AddDbContextFactory<FlareDbContext>((sp, o) =>
        {
            UseProvider(o, settings(sp));
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

    /// <summary>Points <paramref name="options"/> at the database, with the provider's migrations.</summary>
    public static DbContextOptionsBuilder UseProvider(DbContextOptionsBuilder options, DatabaseSettings settings)
    {
        switch (settings.Provider)
        {
            case DatabaseProvider.Sqlite:
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(settings.Target))!);
                var connectionString = new SqliteConnectionStringBuilder
                {
                    DataSource = settings.Target,
                    DefaultTimeout = 30,
                    Pooling = true,
                }.ToString();
                return options.UseSqlite(connectionString, sql => sql.MigrationsAssembly(SqliteMigrationsAssembly));
            case DatabaseProvider.Postgres:
                return options.UseNpgsql(settings.Target, sql => sql.MigrationsAssembly(PostgresMigrationsAssembly));
            default:
                throw new ArgumentOutOfRangeException(nameof(settings), settings.Provider, "Unknown database provider.");
        }
    }

    /// <summary>
    /// Applies pending migrations and switches SQLite to write-ahead logging (readers never block the
    /// writer; the setting persists in the file). On PostgreSQL the database and EF Core's history table are created
    /// first when missing: EF Core's migrator reads the history table before it creates it, and logs that failed read
    /// (and a connection to a database not created yet) as errors, which a first start must not show.
    /// </summary>
    public static async Task MigrateAsync(this FlareDbContext db, CancellationToken ct = default)
    {
        if (db.Database.IsNpgsql())
        {
            PostgresDatabase.EnsureExists(db.Database.GetConnectionString()!);
            await db.Database.ExecuteSqlRawAsync(db.GetService<IHistoryRepository>().GetCreateIfNotExistsScript(), ct);
        }

        await db.Database.MigrateAsync(ct);
        if (db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
        }
    }

    /// <summary>
    /// Begins a transaction for a write that depends on what it reads first (the live plan an activation replaces, a
    /// fit's next version, whether an administrator exists yet): no other such write of <paramref name="scope"/> runs
    /// between the read and the commit. SQLite needs nothing more: Microsoft.Data.Sqlite begins with <c>BEGIN IMMEDIATE</c>,
    /// which takes the database's one write lock at once. PostgreSQL locks rows only as they are written, so two
    /// transactions could read the same state and both act on it; a transaction-scoped advisory lock named after
    /// <paramref name="scope"/> makes them take turns, on every host sharing the database.
    /// </summary>
    public static async Task<IDbContextTransaction> BeginSerializedTransactionAsync(this DatabaseFacade database, string scope, CancellationToken ct = default)
    {
        var tx = await database.BeginTransactionAsync(ct);
        if (database.IsNpgsql())
        {
            var key = BinaryPrimitives.ReadInt64LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes("flare:" + scope)));
            await database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({key})", ct);
        }

        return tx;
    }
}
