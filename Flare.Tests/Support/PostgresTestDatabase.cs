using Npgsql;

namespace Flare.Tests.Support;

/// <summary>
/// A database of its own on the PostgreSQL server the test command started (<c>FLARE_TEST_POSTGRES</c>, set by
/// <c>./test.sh</c>), named for this test; Flare creates it on first start, and it is dropped afterwards.
/// </summary>
public sealed class PostgresTestDatabase : IAsyncDisposable
{
    public const string ServerVariable = "FLARE_TEST_POSTGRES";

    private PostgresTestDatabase(string server)
    {
        Name = "flare_test_" + Guid.NewGuid().ToString("N")[..12];
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = Name }.ConnectionString;
        _server = server;
    }

    private readonly string _server;

    public string Name { get; }

    public string ConnectionString { get; }

    /// <summary>What makes a Flare host use this database (and Hangfire's storage in it).</summary>
    public string[] FlareArgs => ["--Flare:Database=Postgres", $"--ConnectionStrings:Flare={ConnectionString}"];

    /// <summary>A fresh database name on the test server; the test is skipped, saying why, when no server was started.</summary>
    public static PostgresTestDatabase Create()
    {
        var server = Environment.GetEnvironmentVariable(ServerVariable);
        Assert.SkipWhen(string.IsNullOrEmpty(server),
            $"{ServerVariable} is not set: run ./test.sh, which starts a throwaway PostgreSQL cluster for these tests.");
        return new PostgresTestDatabase(server!);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_server) { Database = "postgres", Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
