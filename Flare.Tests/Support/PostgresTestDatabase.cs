using Npgsql;

namespace Flare.Tests.Support;

/// <summary>
/// A database of its own on the PostgreSQL server the test command started (<c>FLARE_TEST_POSTGRES</c>, set by
/// <c>./test.sh</c>); Flare creates it on first start, and it is dropped afterwards.
/// </summary>
public sealed class PostgresTestDatabase : IAsyncDisposable
{
    public const string ServerVariable = "FLARE_TEST_POSTGRES";

    private readonly string _server;

    private PostgresTestDatabase(string server, string name)
    {
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = Name }.ConnectionString;
        _server = server;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    /// <summary>The settings that make a Flare host use this database (and Hangfire's storage in it).</summary>
    public IReadOnlyDictionary<string, string> Configuration => new Dictionary<string, string>
    {
        ["Flare:Database"] = nameof(Flare.Data.DatabaseProvider.Postgres),
        ["ConnectionStrings:Flare"] = ConnectionString,
    };

    /// <summary>The same on Flare's command line.</summary>
    public string[] FlareArgs => [.. Configuration.Select(s => $"--{s.Key}={s.Value}")];

    /// <summary>
    /// A fresh database name on the test server. When no server was started the test is skipped, saying why — unless the
    /// suite runs on PostgreSQL (<see cref="TestProvider"/>), which then fails for want of one.
    /// </summary>
    public static PostgresTestDatabase Create()
    {
        if (!TestProvider.IsPostgres)
        {
            Assert.SkipWhen(string.IsNullOrEmpty(Environment.GetEnvironmentVariable(ServerVariable)),
                $"{ServerVariable} is not set: run ./test.sh, which starts a throwaway PostgreSQL cluster for these tests.");
        }

        return Named(TestProvider.PostgresServer, "flare_test_" + Guid.NewGuid().ToString("N")[..12]);
    }

    /// <summary>The database <paramref name="name"/> on <paramref name="server"/>, not created yet.</summary>
    public static PostgresTestDatabase Named(string server, string name) => new(server, name);

    /// <summary>An unpooled connection to the server's own <c>postgres</c> database, to create, drop and look up databases.</summary>
    public static async Task<NpgsqlConnection> OpenServerAsync(string server, CancellationToken ct = default)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ConnectionString);
        await connection.OpenAsync(ct);
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        // Its pool's idle connections go first (other tests' pools are left alone); FORCE ends any a host still holds.
        await using (var pooled = new NpgsqlConnection(ConnectionString))
        {
            NpgsqlConnection.ClearPool(pooled);
        }

        await using var connection = await OpenServerAsync(_server);
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
