namespace Flare.Routing.Estimation;

/// <summary>How much an estimate rests on neighbours rather than the prior.</summary>
/// <param name="Neighbours">Neighbours that had an outcome for this model.</param>
/// <param name="MeanSimilarity">Their mean cosine similarity to the prompt (0 without neighbours).</param>
/// <param name="DataWeight">Share of the estimate that comes from neighbours, in [0, 1]: <c>Σw / (Σw + m)</c> for
/// shrinkage, neighbours / k for the plain mean. 0 means the estimate is the prior.</param>
public readonly record struct EstimateConfidence(int Neighbours, double MeanSimilarity, double DataWeight);

/// <summary>One model's expected outcome on a prompt (ROUTING.md §1: q̂_ij, L̂_ij, and ĉ_ij where the history has costs).</summary>
/// <param name="Model">The model.</param>
/// <param name="Quality">Expected quality in [0, 1].</param>
/// <param name="OutputTokens">Expected output tokens; null when the history has no output lengths for the model.</param>
/// <param name="CostUsd">Expected cost in USD from recorded costs; null when the history has none for the model
/// (then price the tokens instead).</param>
/// <param name="Confidence">How much the estimate rests on neighbours.</param>
/// <param name="PriorQuality">The model's mean quality over the whole history, which the estimate is shrunk toward.</param>
public sealed record ModelEstimate(
    string Model, double Quality, double? OutputTokens, double? CostUsd, EstimateConfidence Confidence, double PriorQuality);

/// <summary>The estimates for one prompt, one per model that has quality scores in the history.</summary>
/// <param name="InputTokens">Input tokens of the prompt (o200k).</param>
/// <param name="Models">Per model, in the order models first appeared in the history.</param>
/// <param name="Neighbours">Neighbours found.</param>
/// <param name="TopSimilarity">Cosine similarity of the closest neighbour (0 without neighbours).</param>
public sealed record PromptEstimate(int InputTokens, IReadOnlyList<ModelEstimate> Models, int Neighbours, double TopSimilarity)
{
    /// <summary>The estimate for <paramref name="model"/>, or null when the history has no score for it.</summary>
    public ModelEstimate? For(string model)
    {
        foreach (var estimate in Models)
        {
            if (estimate.Model == model)
            {
                return estimate;
            }
        }

        return null;
    }
}
