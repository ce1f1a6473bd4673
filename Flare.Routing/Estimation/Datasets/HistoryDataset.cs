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
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

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

    /// <summary>Parses a format name as the command line and configuration spell it: <c>routerbench</c>,
    /// <c>llmrouter</c>, <c>jsonl</c> (case-insensitive).</summary>
    public static bool TryParseFormat(string? name, out HistoryFormat format)
    {
        switch (name?.ToLowerInvariant())
        {
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
