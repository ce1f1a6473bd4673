namespace Flare.Data.History;

/// <summary>Where a routing-history prompt came from.</summary>
public enum HistorySource
{
    /// <summary>A row of an imported evaluation set.</summary>
    Import,

    /// <summary>A <c>/v1/feedback</c> score for a request Flare served.</summary>
    Feedback,
}

/// <summary>How an import of a history file stands.</summary>
public enum HistoryImportStatus
{
    Running,
    Completed,
    Failed,

    /// <summary>Cut off by a restart; the rows committed before stay, the import can be run again.</summary>
    Interrupted,
}

/// <summary>
/// One imported history file (or the feedback pseudo-dataset). The SHA-256 of the file's bytes makes a
/// re-import of the same file a no-op instead of a duplicate.
/// </summary>
public sealed class HistoryDatasetEntity
{
    public int Id { get; set; }
    public string Name { get; set; } = "";

    /// <summary>jsonl, csv, routerbench or llmrouter.</summary>
    public string Format { get; set; } = "";

    /// <summary>Lower-case hex SHA-256 of the imported bytes; null for the feedback dataset.</summary>
    public string? ContentSha256 { get; set; }

    public HistoryImportStatus Status { get; set; }
    public DateTime StartedUtc { get; set; }
    public DateTime? FinishedUtc { get; set; }

    /// <summary>Rows (records) read so far, good and bad.</summary>
    public int RowsRead { get; set; }
    public int RowsImported { get; set; }
    public int RowsRejected { get; set; }

    /// <summary>Bytes of the file read so far and in all, for a progress bar.</summary>
    public long BytesRead { get; set; }
    public long BytesTotal { get; set; }

    /// <summary>Malformed rows as a JSON array of <c>{"line": n, "message": "…"}</c> (capped).</summary>
    public string IssuesJson { get; set; } = "[]";

    public string? Failure { get; set; }

    public List<HistoryModelMapEntity> ModelMap { get; set; } = [];
}

/// <summary>
/// How a model name in a dataset maps to a registry model. Unmapped names (<see cref="RegistryModelId"/>
/// null) keep their rows and are reported; they are used once an operator maps them.
/// </summary>
public sealed class HistoryModelMapEntity
{
    public int Id { get; set; }
    public int DatasetId { get; set; }

    /// <summary>The model's name (column) in the dataset.</summary>
    public string DatasetModel { get; set; } = "";

    public int? RegistryModelId { get; set; }
}

/// <summary>A prompt of the routing history with its outcomes per model.</summary>
public sealed class HistoryPromptEntity
{
    public long Id { get; set; }
    public int DatasetId { get; set; }
    public HistorySource Source { get; set; }

    /// <summary>The row's id in its file (RouterBench's <c>sample_id</c>, a JSONL <c>id</c>) or the request id of feedback.</summary>
    public string? ExternalId { get; set; }

    /// <summary>Lower-case hex SHA-256 of the prompt text; unique within a dataset.</summary>
    public string PromptSha256 { get; set; } = "";

    public string Prompt { get; set; } = "";
    public int InputTokens { get; set; }
    public DateTime CreatedUtc { get; set; }

    public List<HistoryOutcomeEntity> Outcomes { get; set; } = [];
}

/// <summary>What one model did on one history prompt.</summary>
public sealed class HistoryOutcomeEntity
{
    public long Id { get; set; }
    public long PromptId { get; set; }

    /// <summary>The model's name as the dataset (or, for feedback, the registry) spells it.</summary>
    public string DatasetModel { get; set; } = "";

    /// <summary>Quality in [0, 1].</summary>
    public double Score { get; set; }

    public int? OutputTokens { get; set; }
    public double? CostUsd { get; set; }
    public string? ResponseText { get; set; }
}
