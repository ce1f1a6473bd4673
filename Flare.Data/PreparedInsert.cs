using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Flare.Data;

/// <summary>
/// One prepared INSERT of <typeparamref name="T"/> rows executed row after row in the caller's transaction, bypassing EF
/// Core's change tracking: for bulk writes (the request log, history imports) whose per-entity bookkeeping would cost more
/// than the write. Table, columns, parameter types and value conversions come from the EF model, so it is provider-neutral
/// (PostgreSQL prepares only typed parameters). Built once per provider and reused.
/// </summary>
public sealed class PreparedInsert<T> where T : class
{
    private readonly string _commandText;
    private readonly Column[] _columns;

    private sealed record Column(System.Reflection.PropertyInfo Property, RelationalTypeMapping Mapping)
    {
        public ValueConverter? Converter => Mapping.Converter;
    }

    private PreparedInsert(string commandText, Column[] columns) => (_commandText, _columns) = (commandText, columns);

    /// <summary>The statement for <paramref name="db"/>'s provider (one per provider: a test process may use two).</summary>
    public static PreparedInsert<T> For(FlareDbContext db)
    {
        var provider = db.Database.ProviderName ?? "";
        return Built.TryGetValue(provider, out var insert) ? insert : Built[provider] = Build(db);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, PreparedInsert<T>> Built = new();

    private static PreparedInsert<T> Build(FlareDbContext db)
    {
        var entity = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not in Flare's model.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var sql = db.GetService<ISqlGenerationHelper>();
        var properties = entity.GetProperties().Where(p => p.ValueGenerated != ValueGenerated.OnAdd).ToList();
        var text = $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} ({string.Join(", ", properties.Select(c => sql.DelimitIdentifier(c.GetColumnName(table)!)))}) " +
                   $"VALUES ({string.Join(", ", properties.Select((_, i) => "@p" + i))})";
        var columns = properties.Select(p => new Column(p.PropertyInfo!, p.GetRelationalTypeMapping())).ToArray();
        return new PreparedInsert<T>(text, columns);
    }

    /// <summary>Inserts <paramref name="rows"/> in <paramref name="transaction"/>; <paramref name="before"/> runs on each row first.</summary>
    public async Task ExecuteAsync(DbTransaction transaction, IEnumerable<T> rows, CancellationToken ct, Action<T>? before = null)
    {
        await using var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = _commandText;
        var parameters = new DbParameter[_columns.Length];
        for (var i = 0; i < _columns.Length; i++)
        {
            // The provider's own parameter for the column's store type (PostgreSQL prepares only typed parameters).
            parameters[i] = _columns[i].Mapping.CreateParameter(command, "@p" + i, DBNull.Value, nullable: true);
            command.Parameters.Add(parameters[i]);
        }

        await command.PrepareAsync(ct);
        foreach (var row in rows)
        {
            before?.Invoke(row);
            for (var i = 0; i < _columns.Length; i++)
            {
                var value = _columns[i].Property.GetValue(row);
                if (value is not null && _columns[i].Converter is { } converter)
                {
                    value = converter.ConvertToProvider(value);
                }

                parameters[i].Value = value ?? DBNull.Value;
            }

            await command.ExecuteNonQueryAsync(ct);
        }
    }
}
