using System.Diagnostics.CodeAnalysis;

namespace Flare.Routing.Estimation.Datasets;

/// <summary>The file layouts a routing history can be imported from.</summary>
public enum HistoryFormat
{
    /// <summary>RouterBench's wide CSV (<see cref="RouterBenchCsv"/>).</summary>
    RouterBench,

    /// <summary>LLMRouter's JSON array (<see cref="LlmRouterJson"/>).</summary>
    LlmRouter,

    /// <summary>Flare's generic JSON Lines (<see cref="HistoryJsonl"/>).</summary>
    Jsonl,

    /// <summary>Flare's generic CSV, one model's outcome a row (<see cref="HistoryCsv"/>).</summary>
    Csv,
}

/// <summary>A problem with one record of an import; the record (or the one value) is skipped, the rest imported.</summary>
/// <param name="Record">Line number (CSV: of the record's first line; JSONL: the line) or, for a JSON array, the
/// 1-based position of the element.</param>
/// <param name="Message">What is wrong, in words for the operator.</param>
public sealed record DatasetIssue(int Record, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"record {Record}: {Message}";
}

/// <summary>
/// One record of a history file as a streaming read yields it: a row to import, with what was wrong with some of its
/// values, or a record that was skipped, with why. A record with <see cref="Failure"/> is the last one: the file
/// cannot be read past it.
/// </summary>
/// <param name="Line">The line the record starts on (1-based; the element's first line for a JSON array).</param>
/// <param name="Entry">The row, or null when the record was skipped.</param>
/// <param name="Issues">Skipped values of the row, or why the record was skipped (numbered as in <see cref="DatasetIssue.Record"/>).</param>
/// <param name="ExternalId">The row's id in the file (RouterBench's <c>sample_id</c>, an <c>id</c> member or column), when it has one.</param>
/// <param name="Failure">Why the file cannot be read from this record on (no header, not a JSON array, broken JSON).</param>
public sealed record HistoryRecord(int Line, HistoryEntry? Entry, IReadOnlyList<DatasetIssue> Issues, string? ExternalId = null, string? Failure = null)
{
    internal static HistoryRecord Failed(int line, string reason) => new(line, null, [], null, reason);
}

/// <summary>The outcome of an import: the rows, the models they name, and what was skipped — or why nothing
/// could be read.</summary>
public sealed record HistoryDataset
{
    private HistoryDataset(IReadOnlyList<HistoryEntry> entries, IReadOnlyList<string> models, IReadOnlyList<DatasetIssue> issues, string? failure)
    {
        Entries = entries;
        Models = models;
        Issues = issues;
        Failure = failure;
    }

    /// <summary>The imported rows, in file order.</summary>
    public IReadOnlyList<HistoryEntry> Entries { get; }

    /// <summary>Models named by the file, in order of first appearance.</summary>
    public IReadOnlyList<string> Models { get; }

    /// <summary>Skipped records and values.</summary>
    public IReadOnlyList<DatasetIssue> Issues { get; }

    /// <summary>Why the file could not be read at all, when not <see cref="Succeeded"/>.</summary>
    public string? Failure { get; }

    [MemberNotNullWhen(false, nameof(Failure))]
    public bool Succeeded => Failure is null;

    internal static HistoryDataset Success(IReadOnlyList<HistoryEntry> entries, IReadOnlyList<DatasetIssue> issues)
    {
        var models = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            foreach (var outcome in entry.Outcomes)
            {
                if (seen.Add(outcome.Model))
                {
                    models.Add(outcome.Model);
                }
            }
        }

        return new HistoryDataset(entries, models, issues, null);
    }

    internal static HistoryDataset Failed(string reason, IReadOnlyList<DatasetIssue>? issues = null) => new([], [], issues ?? [], reason);
}

/// <summary>Reads a history file in any <see cref="HistoryFormat"/>.</summary>
public static class HistoryDatasets
{
    /// <summary>Parses <paramref name="reader"/>. <paramref name="tokenCounter"/> turns response texts into output
    /// tokens (RouterBench only; default o200k).</summary>
    public static HistoryDataset Parse(TextReader reader, HistoryFormat format, ITokenCounter? tokenCounter = null) => format switch
    {
        HistoryFormat.RouterBench => RouterBenchCsv.Parse(reader, tokenCounter ?? O200kTokenCounter.Shared),
        HistoryFormat.LlmRouter => LlmRouterJson.Parse(reader),
        HistoryFormat.Jsonl => HistoryJsonl.Parse(reader),
        HistoryFormat.Csv => HistoryCsv.Parse(reader),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>
    /// Reads <paramref name="stream"/> one record at a time, without holding the file in memory: what an import of a
    /// large file commits in batches. Text is UTF-8 (a byte-order mark is skipped).
    /// </summary>
    public static IEnumerable<HistoryRecord> ReadRecords(Stream stream, HistoryFormat format, ITokenCounter? tokenCounter = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return format switch
        {
            HistoryFormat.LlmRouter => LlmRouterJson.Read(stream),
            HistoryFormat.RouterBench => RouterBenchCsv.Read(Text(stream), tokenCounter ?? O200kTokenCounter.Shared),
            HistoryFormat.Jsonl => HistoryJsonl.Read(Text(stream)),
            HistoryFormat.Csv => HistoryCsv.Read(Text(stream)),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
        };

        static StreamReader Text(Stream s) => new(s, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024, leaveOpen: true);
    }

    /// <summary>Reads the file at <paramref name="path"/>; a missing file is a failure, not an exception.</summary>
    public static HistoryDataset Read(string path, HistoryFormat format, ITokenCounter? tokenCounter = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            return HistoryDataset.Failed($"No file at {path}.");
        }

        using var reader = File.OpenText(path);
        return Parse(reader, format, tokenCounter);
    }

    /// <summary>The name <see cref="TryParseFormat"/> reads back: <c>routerbench</c>, <c>llmrouter</c>, <c>jsonl</c> or <c>csv</c>.</summary>
    public static string Name(HistoryFormat format) => format switch
    {
        HistoryFormat.RouterBench => "routerbench",
        HistoryFormat.LlmRouter => "llmrouter",
        HistoryFormat.Jsonl => "jsonl",
        HistoryFormat.Csv => "csv",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>Parses a format name as the command line and configuration spell it: <c>routerbench</c>,
    /// <c>llmrouter</c>, <c>jsonl</c>, <c>csv</c> (case-insensitive).</summary>
    public static bool TryParseFormat(string? name, out HistoryFormat format)
    {
        switch (name?.ToLowerInvariant())
        {
            case "csv":
                format = HistoryFormat.Csv;
                return true;
            case "routerbench":
                format = HistoryFormat.RouterBench;
                return true;
            case "llmrouter":
                format = HistoryFormat.LlmRouter;
                return true;
            case "jsonl":
                format = HistoryFormat.Jsonl;
                return true;
            default:
                format = default;
                return false;
        }
    }

    // The records of a whole file as one data set; a failure record fails it, keeping the issues read before.
    internal static HistoryDataset Collect(IEnumerable<HistoryRecord> records)
    {
        var entries = new List<HistoryEntry>();
        var issues = new List<DatasetIssue>();
        foreach (var record in records)
        {
            issues.AddRange(record.Issues);
            if (record.Failure is not null)
            {
                return HistoryDataset.Failed(record.Failure, issues);
            }

            if (record.Entry is not null)
            {
                entries.Add(record.Entry);
            }
        }

        return HistoryDataset.Success(entries, issues);
    }

    // System.Text.Json's messages end with its own position ("LineNumber: 0 | BytePositionInLine: 7.", zero-based and
    // counted from where that parse started); the issue names the line in the file instead.
    internal static string JsonMessage(string message)
    {
        var at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return at > 0 ? message[..at] : message;
    }

    // A score must be a number in [0, 1]; anything else is reported and left out.
    internal static double? Score(double value, string model, int record, List<DatasetIssue> issues)
    {
        if (value is >= 0 and <= 1)
        {
            return value;
        }

        issues.Add(new DatasetIssue(record, $"score {value} of {model} is outside [0, 1]; left out."));
        return null;
    }
}
