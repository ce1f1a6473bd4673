using System.Collections.Concurrent;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Flare.Data;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Flare.Tests.Support;

/// <summary>
/// The database engine the suite runs on, a test parameter: <c>FLARE_TEST_PROVIDER=sqlite</c> (the default) or
/// <c>postgres</c>. Every helper that gives a test a database asks here, by the test's data directory: on SQLite the
/// database is <c>flare.db</c> in that folder; on PostgreSQL it is a database of its own on the server in
/// <c>FLARE_TEST_POSTGRES</c>, named after the folder, created by Flare (or the test) on first use and dropped with the
/// folder (see <see cref="TempDirectory"/>). The data directory itself (the key ring, uploads) stays a folder either way.
/// </summary>
public static class TestProvider
{
    public const string Variable = "FLARE_TEST_PROVIDER";

    /// <summary>
    /// Where the tests of the core (<c>Flare.Routing</c>, which has no database by design) and of the emulator live: none
    /// of them touches a database, so <c>./test.sh</c> runs them on its SQLite pass only. To keep that true, no test
    /// there is given a database on either pass; one that asks fails, saying so.
    /// </summary>
    public static readonly string[] DatabaseFreeNamespaces = ["Flare.Tests.Routing", "Flare.Tests.Emulator"];

    private static readonly Lazy<DatabaseProvider> Chosen = new(Read);

    /// <summary>Databases this process named on PostgreSQL, by data directory, so the folder's disposal drops its own.</summary>
    private static readonly ConcurrentDictionary<string, PostgresTestDatabase> Databases = new();

    public static DatabaseProvider Current => Chosen.Value;

    public static bool IsPostgres => Current == DatabaseProvider.Postgres;

    /// <summary>
    /// The server the suite's PostgreSQL databases live on (<c>FLARE_TEST_POSTGRES</c>); a run on PostgreSQL without it
    /// fails, saying how to get one.
    /// </summary>
    public static string PostgresServer =>
        Environment.GetEnvironmentVariable(PostgresTestDatabase.ServerVariable) is { Length: > 0 } server
            ? server
            : throw new InvalidOperationException(
                $"{Variable}=postgres but {PostgresTestDatabase.ServerVariable} is not set: run FLARE_TEST_PROVIDER=postgres ./test.sh, which " +
                $"starts a throwaway PostgreSQL cluster, or set {PostgresTestDatabase.ServerVariable} to a server connection string (Database=postgres) " +
                "of a superuser on a server the tests may create and drop databases on.");

    /// <summary>The database of the host whose data directory is <paramref name="dataDirectory"/>.</summary>
    public static DatabaseSettings Settings(string dataDirectory)
    {
        RefuseDatabaseFreeTests();
        return IsPostgres
            ? DatabaseSettings.Postgres(PostgresFor(dataDirectory).ConnectionString)
            : DatabaseSettings.Sqlite(Path.Combine(dataDirectory, "flare.db"));
    }

    /// <summary>Flare's settings for that database: none on SQLite (the default file), the switches on PostgreSQL.</summary>
    public static IReadOnlyDictionary<string, string> Configuration(string dataDirectory)
    {
        RefuseDatabaseFreeTests();
        return IsPostgres ? PostgresFor(dataDirectory).Configuration : new Dictionary<string, string>();
    }

    /// <summary>The same on Flare's command line.</summary>
    public static string[] FlareArgs(string dataDirectory) => [.. Configuration(dataDirectory).Select(s => $"--{s.Key}={s.Value}")];

    /// <summary>Whether the database of <paramref name="dataDirectory"/> has been created (by Flare's first start, say).</summary>
    public static async Task<bool> DatabaseExistsAsync(string dataDirectory, CancellationToken ct = default)
    {
        if (!IsPostgres)
        {
            return File.Exists(Settings(dataDirectory).Target);
        }

        await using var connection = await PostgresTestDatabase.OpenServerAsync(PostgresServer, ct);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", PostgresFor(dataDirectory).Name);
        return await exists.ExecuteScalarAsync(ct) is not null;
    }

    /// <summary>A plain ADO.NET connection to that database, bypassing Flare, to look at what it stored (SQL in double-quoted identifiers works on both).</summary>
    public static async Task<DbConnection> OpenConnectionAsync(string dataDirectory, CancellationToken ct = default)
    {
        var settings = Settings(dataDirectory);
        DbConnection connection = IsPostgres
            ? new NpgsqlConnection(new NpgsqlConnectionStringBuilder(settings.Target) { Pooling = false }.ConnectionString)
            : new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = settings.Target, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
        await connection.OpenAsync(ct);
        return connection;
    }

    /// <summary>
    /// Where the database of <paramref name="dataDirectory"/> holds <paramref name="text"/> in clear, or null: on SQLite
    /// the files (the WAL included) byte by byte, on PostgreSQL every row of every table as text.
    /// </summary>
    public static async Task<string?> FindStoredAsync(string dataDirectory, string text, CancellationToken ct = default)
    {
        if (!IsPostgres)
        {
            foreach (var file in Directory.GetFiles(dataDirectory, Path.GetFileName(Settings(dataDirectory).Target) + "*"))
            {
                if ((await File.ReadAllBytesAsync(file, ct)).AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0)
                {
                    return Path.GetFileName(file);
                }
            }

            return null;
        }

        await using var connection = (NpgsqlConnection)await OpenConnectionAsync(dataDirectory, ct);
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
            "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')",
            connection))
        await using (var reader = await list.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                tables.Add(reader.GetString(0));
            }
        }

        foreach (var table in tables)
        {
            await using var find = new NpgsqlCommand($"SELECT EXISTS (SELECT 1 FROM {table} r WHERE strpos(r::text, @text) > 0)", connection);
            find.Parameters.AddWithValue("text", text);
            if ((bool)(await find.ExecuteScalarAsync(ct))!)
            {
                return table;
            }
        }

        return null;
    }

    /// <summary>Drops the PostgreSQL database of <paramref name="dataDirectory"/> if this process named one (nothing on SQLite: the file goes with the folder).</summary>
    public static void Release(string dataDirectory)
    {
        if (Databases.TryRemove(Path.GetFullPath(dataDirectory), out var database))
        {
            database.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static PostgresTestDatabase PostgresFor(string dataDirectory)
    {
        var key = Path.GetFullPath(dataDirectory);
        return Databases.GetOrAdd(key, k => PostgresTestDatabase.Named(PostgresServer, "flare_test_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(k)))[..16]));
    }

    private static void RefuseDatabaseFreeTests()
    {
        var test = TestContext.Current.TestClass?.TestClassName;
        if (test is not null && DatabaseFreeNamespaces.FirstOrDefault(ns => test.StartsWith(ns + ".", StringComparison.Ordinal)) is { } free)
        {
            throw new InvalidOperationException(
                $"{test} asks for a database, but the tests under {free} never touch one (./test.sh runs them on SQLite only): " +
                "put a test that needs a database under the namespace of the part of Flare that owns it (Flare.Tests.Data, Flare.Tests.Web).");
        }
    }

    private static DatabaseProvider Read() =>
        Environment.GetEnvironmentVariable(Variable)?.Trim().ToLowerInvariant() switch
        {
            null or "" or "sqlite" => DatabaseProvider.Sqlite,
            "postgres" or "postgresql" => DatabaseProvider.Postgres,
            var other => throw new InvalidOperationException($"{Variable}={other}: use sqlite (the default) or postgres."),
        };
}
