using Npgsql;

namespace Flare.Data;

/// <summary>PostgreSQL housekeeping that must happen before anything (EF Core, Hangfire) opens the database.</summary>
public static class PostgresDatabase
{
    /// <summary>
    /// Creates the connection string's database when the server does not have it yet, connecting to the server's
    /// <c>postgres</c> database to do so; a host that loses the race to another creating it carries on.
    /// </summary>
    public static void EnsureExists(string connectionString)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        var name = target.Database ?? throw new InvalidOperationException("The PostgreSQL connection string names no Database.");
        var maintenance = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false };
        using var connection = new NpgsqlConnection(maintenance.ConnectionString);
        connection.Open();
        using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", name);
        if (exists.ExecuteScalar() is not null)
        {
            return;
        }

        try
        {
            using var create = new NpgsqlCommand($"CREATE DATABASE \"{name.Replace("\"", "\"\"")}\"", connection);
            create.ExecuteNonQuery();
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
        {
            // Another host created it first (or at the same moment: then the catalog's unique index says so).
        }
    }
}
