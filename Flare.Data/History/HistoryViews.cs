using Flare.Routing.Estimation.Datasets;
using Flare.Routing.Optimization.Evaluation;

namespace Flare.Data.History;

/// <summary>The <see cref="HistoryDatasetEntity.Format"/> of datasets that are not imported files.</summary>
public static class HistoryFormats
{
    /// <summary>The one dataset that collects <c>/v1/feedback</c> rows.</summary>
    public const string Feedback = "feedback";
}

/// <summary>An imported history file (or the feedback dataset) as the UI and <c>/api</c> show it.</summary>
/// <param name="Models">Model names the dataset has rows for.</param>
/// <param name="UnmappedModels">Of those, how many map to no registry model (their rows are not used until mapped).</param>
public sealed record HistoryDatasetView(
    int Id,
    string Name,
    string Format,
    HistoryImportStatus Status,
    DateTime StartedUtc,
    DateTime? FinishedUtc,
    int RowsRead,
    int RowsImported,
    int RowsRejected,
    long BytesRead,
    long BytesTotal,
    string? Failure,
    int Models,
    int UnmappedModels,
    string? ContentSha256)
{
    /// <summary>Share of the file read, 0 to 1 (1 once the import ended well).</summary>
    public double Progress => Status == HistoryImportStatus.Completed ? 1 : BytesTotal <= 0 ? 0 : Math.Clamp((double)BytesRead / BytesTotal, 0, 1);

    public bool IsRunning => Status == HistoryImportStatus.Running;

    public bool IsFeedback => Format == HistoryFormats.Feedback;
}

/// <summary>A problem found by an import: a malformed row (with its line) or a note about the whole file (no line).</summary>
public sealed record HistoryIssue(int? Line, string Message);

/// <summary>How one model of a dataset maps to the registry.</summary>
/// <param name="DatasetModel">The model's name in the dataset.</param>
/// <param name="RegistryModelId">The registry model its rows count for; null when unmapped.</param>
/// <param name="RegistryModelName">That model's name (the estimator's key).</param>
/// <param name="Outcomes">Scored outcomes of this model in the dataset.</param>
public sealed record HistoryModelMapView(string DatasetModel, int? RegistryModelId, string? RegistryModelName, int Outcomes)
{
    public bool IsMapped => RegistryModelId is not null;
}

/// <summary>One dataset with its issues and model mapping.</summary>
/// <param name="IssuesOmitted">Issues found past the stored list's cap (<see cref="HistoryStore.MaxStoredIssues"/>), counted only.</param>
public sealed record HistoryDatasetDetail(HistoryDatasetView Dataset, IReadOnlyList<HistoryIssue> Issues, int IssuesOmitted, IReadOnlyList<HistoryModelMapView> Models);

/// <summary>One line of a mapping change: <paramref name="RegistryModelId"/> null unmaps the model.</summary>
public sealed record HistoryModelMapInput(string DatasetModel, int? RegistryModelId);

/// <summary>How an import reads and costs its file.</summary>
public sealed record HistoryImportOptions
{
    /// <summary>The file's layout.</summary>
    public required HistoryFormat Format { get; init; }

    /// <summary>Prices (USD per million tokens) that cost rows whose file gives no cost; null: no costs are added.</summary>
    public IReadOnlyDictionary<string, ModelPrice>? Prices { get; init; }

    /// <summary>Output tokens assumed when pricing a row whose file gives no output length (default 256, as the
    /// <c>eval</c> verb assumes). LLMRouter files have none.</summary>
    public int AssumedOutputTokens { get; init; } = 256;

    /// <summary>Records committed per transaction (default 500).</summary>
    public int BatchSize { get; init; } = 500;
}

/// <summary>What starting an import found.</summary>
public enum HistoryImportStart
{
    /// <summary>A new dataset: run the import.</summary>
    New,

    /// <summary>The same file was cut off or failed before: run the import again; it skips the rows already stored.</summary>
    Resumed,

    /// <summary>The same file is already imported (or being imported): nothing to do.</summary>
    Existing,
}

/// <summary>The dataset an upload goes to and whether its import must run.</summary>
public sealed record HistoryImportTicket(HistoryDatasetView Dataset, HistoryImportStart Start)
{
    public bool MustRun => Start != HistoryImportStart.Existing;
}

/// <summary>A feedback row as stored.</summary>
/// <param name="Mapped">Whether the model is mapped to a registry model (so the row reaches the estimator).</param>
public sealed record HistoryFeedbackResult(int DatasetId, long PromptId, long OutcomeId, bool NewPrompt, bool Mapped);

/// <summary>A mapped outcome, as the estimator reads the history.</summary>
internal readonly record struct MappedOutcome(long Id, long PromptId, string Model, double Score, int? OutputTokens, double? CostUsd);
