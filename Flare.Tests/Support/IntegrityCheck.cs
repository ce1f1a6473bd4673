using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Flare.Tests.Support;

/// <summary>
/// The database engine's own check of the database a host left in <c>dataDirectory</c> ("ok" when sound). SQLite:
/// <c>PRAGMA integrity_check</c> (every page, index and constraint) and <c>foreign_key_check</c>. PostgreSQL: amcheck
/// over every table's heap and every B-tree index against its table (<c>verify_heapam</c>, <c>bt_index_check</c> with
/// <c>heapallindexed</c>), and every foreign key and check constraint evaluated again over the stored rows.
/// </summary>
public static class IntegrityCheck
{
    public static async Task<string> RunAsync(string dataDirectory, CancellationToken ct = default)
    {
        await using var connection = await TestProvider.OpenConnectionAsync(dataDirectory, ct);
        var problems = connection is NpgsqlConnection postgres ? await PostgresAsync(postgres, ct) : await SqliteAsync((SqliteConnection)connection, ct);
        return problems.Count == 0 ? "ok" : string.Join("; ", problems);
    }

    private static async Task<List<string>> SqliteAsync(SqliteConnection connection, CancellationToken ct)
    {
        var problems = new List<string>();
        foreach (var pragma in new[] { "PRAGMA integrity_check", "PRAGMA foreign_key_check" })
        {
            foreach (var row in await RowsAsync(connection, pragma, ct))
            {
                if (row != "ok")
                {
                    problems.Add($"{pragma}: {row}");
                }
            }
        }

        return problems;
    }

    private static async Task<List<string>> PostgresAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        // In a schema of its own, so Flare's tables stay as its migrations made them.
        await ExecuteAsync(connection, "CREATE SCHEMA IF NOT EXISTS amcheck; CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA amcheck", ct);
        var problems = new List<string>();
        var userTables = "n.nspname NOT IN ('pg_catalog', 'information_schema', 'amcheck') AND n.nspname NOT LIKE 'pg_toast%'";

        foreach (var row in await RowsAsync(connection, $"""
            SELECT c.oid::regclass::text, v.blkno, v.offnum, v.msg
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, amcheck.verify_heapam(c.oid) v
            WHERE c.relkind = 'r' AND {userTables}
            """, ct))
        {
            problems.Add($"heap: {row}");
        }

        // bt_index_check raises an error at the first corruption it finds, naming it.
        foreach (var index in await RowsAsync(connection, $"""
            SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree' AND i.indisvalid AND {userTables}
            """, ct))
        {
            try
            {
                await ExecuteAsync(connection, $"SELECT amcheck.bt_index_check('{index}'::regclass, true)", ct);
            }
            catch (PostgresException e)
            {
                problems.Add($"index {index}: {e.MessageText}");
            }
        }

        // Constraints are enforced as rows are written; evaluating them again finds any row that got past them.
        var constraints = new List<(string Name, string Table, string Check)>();
        await using (var command = new NpgsqlCommand($"""
            SELECT con.conname, con.conrelid::regclass::text, con.contype::text, pg_get_expr(con.conbin, con.conrelid), con.confrelid::regclass::text,
                   ARRAY(SELECT quote_ident(a.attname) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, i)
                         JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.i),
                   ARRAY(SELECT quote_ident(a.attname) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, i)
                         JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.i)
            FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
            WHERE con.contype IN ('f', 'c') AND {userTables}
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var (name, table) = (reader.GetString(0), reader.GetString(1));
                if (reader.GetString(2) == "c")
                {
                    constraints.Add((name, table, $"SELECT count(*) FROM {table} WHERE NOT ({reader.GetString(3)})"));
                    continue;
                }

                var (columns, referenced) = (reader.GetFieldValue<string[]>(5), reader.GetFieldValue<string[]>(6));
                var matches = string.Join(" AND ", columns.Zip(referenced, (c, r) => $"p.{r} = t.{c}"));
                var present = string.Join(" AND ", columns.Select(c => $"t.{c} IS NOT NULL"));
                constraints.Add((name, table, $"SELECT count(*) FROM {table} t WHERE {present} AND NOT EXISTS (SELECT 1 FROM {reader.GetString(4)} p WHERE {matches})"));
            }
        }

        foreach (var (name, table, check) in constraints)
        {
            var violating = (await RowsAsync(connection, check, ct)).Single();
            if (violating != "0")
            {
                problems.Add($"{table}: {violating} rows break {name}");
            }
        }

        return problems;
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Each row's columns joined by spaces.</summary>
    private static async Task<List<string>> RowsAsync(DbConnection connection, string sql, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<string>();
        while (await reader.ReadAsync(ct))
        {
            rows.Add(string.Join(" ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetValue(i)?.ToString())));
        }

        return rows;
    }
}
