using Npgsql;

namespace Flare.Web.Hosting;

/// <summary>PostgreSQL advisory locks Flare takes in its database (keys are one number space per database).</summary>
internal static class PostgresLocks
{
    /// <summary>Held while a host creates Hangfire's schema, and while it migrates, seeds and runs its other start-up
    /// steps, so two hosts starting at once take turns.</summary>
    public const long StartUp = 0x466C_6172_6501;

    /// <summary>Held by the host that sends the active health probes.</summary>
    public const long HealthProbes = 0x466C_6172_6502;

    /// <summary>
    /// Waits for session lock <paramref name="key"/> and holds it until the returned connection is disposed. The connection
    /// is its own, not pooled: closing it ends the session, so the lock goes with it — also when the host dies holding it.
    /// </summary>
    public static async Task<NpgsqlConnection> HoldAsync(string connectionString, long key, CancellationToken ct)
    {
        var connection = new NpgsqlConnection(Unpooled(connectionString));
        try
        {
            await connection.OpenAsync(ct);
            await using var take = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection) { CommandTimeout = 0 };
            take.Parameters.AddWithValue("key", key);
            await take.ExecuteNonQueryAsync(ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary><see cref="HoldAsync"/>, for start-up code that cannot await.</summary>
    public static NpgsqlConnection Hold(string connectionString, long key)
    {
        var connection = new NpgsqlConnection(Unpooled(connectionString));
        try
        {
            connection.Open();
            using var take = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection) { CommandTimeout = 0 };
            take.Parameters.AddWithValue("key", key);
            take.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The connection string with pooling off (a pooled connection's session outlives its closing).</summary>
    public static string Unpooled(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;
}
