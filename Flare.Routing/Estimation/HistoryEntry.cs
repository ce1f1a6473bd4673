namespace Flare.Routing.Estimation;

/// <summary>What one model did on one prompt of the routing history: a quality score and, where known, the
/// output length and the cost. At least one of the three is set.</summary>
/// <param name="Model">The model's name, as the history and the registry spell it.</param>
/// <param name="Score">Quality in [0, 1]; null when this row did not grade the answer.</param>
/// <param name="OutputTokens">Output tokens of the answer (o200k count when derived from text); null when unknown.</param>
/// <param name="CostUsd">What the request cost, in USD; null when unknown.</param>
public sealed record ModelOutcome(string Model, double? Score, int? OutputTokens = null, double? CostUsd = null);

/// <summary>One prompt of the routing history with what one or more models did on it. Imported evaluation sets
/// give every model's outcome at once; live feedback gives one model's.</summary>
/// <param name="Prompt">The prompt text, as sent (all messages joined, for chat requests).</param>
/// <param name="Outcomes">Per-model outcomes. A model listed twice is averaged.</param>
public sealed record HistoryEntry(string Prompt, IReadOnlyList<ModelOutcome> Outcomes)
{
    /// <summary>A feedback row: one model's outcome on one prompt.</summary>
    public static HistoryEntry Feedback(string prompt, string model, double? score, int? outputTokens = null, double? costUsd = null) =>
        new(prompt, [new ModelOutcome(model, score, outputTokens, costUsd)]);
}
