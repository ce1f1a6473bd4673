using Microsoft.Data.Sqlite;

namespace Flare.Tests.Support;

/// <summary>SQLite's own check of a database file: every page, index and constraint ("ok" when sound).</summary>
public static class IntegrityCheck
{
    public static async Task<string> RunAsync(string databasePath, CancellationToken ct = default)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        await connection.OpenAsync(ct);
        var results = new List<string>();
        foreach (var pragma in new[] { "PRAGMA integrity_check", "PRAGMA foreign_key_check" })
        {
            await using var command = connection.CreateCommand();
            command.CommandText = pragma;
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var row = string.Join(" ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetValue(i)?.ToString()));
                if (row != "ok")
                {
                    results.Add($"{pragma}: {row}");
                }
            }
        }

        return results.Count == 0 ? "ok" : string.Join("; ", results);
    }
}
