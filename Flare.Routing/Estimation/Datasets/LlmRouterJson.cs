using System.Text.Json;

namespace Flare.Routing.Estimation.Datasets;

/// <summary>
/// LLMRouter's preprocessed routing data (e.g. <c>dcrouter_preprocessed/train.json</c>): a JSON array of
/// <c>{"question": "...", "scores": {"model": 0.83, ...}}</c>. Other members (<c>cluster_id</c>) are ignored; a
/// null score is missing. The files carry no output lengths or costs.
/// </summary>
public static class LlmRouterJson
{
    /// <summary>Reads the array.</summary>
    public static HistoryDataset Parse(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(reader.ReadToEnd(), new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            return HistoryDataset.Failed($"Not JSON: {e.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                return HistoryDataset.Failed("Expected a JSON array of {\"question\", \"scores\"} objects.");
            }

            var entries = new List<HistoryEntry>();
            var issues = new List<DatasetIssue>();
            var position = 0;
            foreach (var element in document.RootElement.EnumerateArray())
            {
                position++;
                if (element.ValueKind != JsonValueKind.Object
                    || !element.TryGetProperty("question", out var question) || question.ValueKind != JsonValueKind.String)
                {
                    issues.Add(new DatasetIssue(position, "no \"question\" string; skipped."));
                    continue;
                }

                if (!element.TryGetProperty("scores", out var scores) || scores.ValueKind != JsonValueKind.Object)
                {
                    issues.Add(new DatasetIssue(position, "no \"scores\" object; skipped."));
                    continue;
                }

                var outcomes = new List<ModelOutcome>();
                foreach (var score in scores.EnumerateObject())
                {
                    if (score.Value.ValueKind == JsonValueKind.Null)
                    {
                        continue;
                    }

                    if (score.Value.ValueKind != JsonValueKind.Number)
                    {
                        issues.Add(new DatasetIssue(position, $"score of {score.Name} is not a number; left out."));
                        continue;
                    }

                    if (HistoryDatasets.Score(score.Value.GetDouble(), score.Name, position, issues) is { } s)
                    {
                        outcomes.Add(new ModelOutcome(score.Name, s));
                    }
                }

                if (outcomes.Count == 0)
                {
                    issues.Add(new DatasetIssue(position, "no usable score; skipped."));
                    continue;
                }

                entries.Add(new HistoryEntry(question.GetString()!, outcomes));
            }

            return HistoryDataset.Success(entries, issues);
        }
    }
}
