using System.Text.Json;

namespace Flare.Routing.Estimation.Datasets;

/// <summary>
/// Flare's generic history layout: JSON Lines, one prompt a line.
/// <code>
/// {"prompt": "Translate 'cat' to French.", "scores": {"gpt-4o": 1, "llama-3-8b": 0.5}, "output_tokens": {"gpt-4o": 3}, "cost_usd": {"gpt-4o": 0.00004}}
/// </code>
/// </summary>
/// <remarks>
/// <c>prompt</c> (string) and <c>scores</c> (object: model → number in [0, 1], or null for not graded) are required;
/// <c>output_tokens</c> (model → whole number ≥ 0) and <c>cost_usd</c> (model → number ≥ 0) are optional and may
/// name models without a score; <c>id</c> (string or number) is the row's id in its source, kept with the prompt. Blank lines are skipped; a line that breaks a rule is reported with its number and
/// skipped, a bad value is reported and left out.
/// </remarks>
public static class HistoryJsonl
{
    /// <summary>Reads the lines.</summary>
    public static HistoryDataset Parse(TextReader reader)
    {
        var data = HistoryDatasets.Collect(Read(reader));
        return data.Succeeded && data.Entries.Count == 0 && data.Issues.Count > 0
            ? HistoryDataset.Failed($"No line could be read; first problem: {data.Issues[0]}", data.Issues)
            : data;
    }

    /// <summary>Reads the lines one at a time (the record number is the line number).</summary>
    public static IEnumerable<HistoryRecord> Read(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var issues = new List<DatasetIssue>();
            HistoryEntry? entry = null;
            string? id = null;
            try
            {
                using var document = JsonDocument.Parse(line);
                entry = Entry(document.RootElement, number, issues);
                id = ExternalId(document.RootElement);
            }
            catch (JsonException e)
            {
                issues.Add(new DatasetIssue(number, $"not a JSON object: {HistoryDatasets.JsonMessage(e.Message)}"));
            }

            yield return new HistoryRecord(number, entry, issues, id);
        }
    }

    // An optional "id" (string or number): the row's id in its source.
    private static string? ExternalId(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("id", out var id)
            ? id.ValueKind switch
            {
                JsonValueKind.String => id.GetString(),
                JsonValueKind.Number => id.GetRawText(),
                _ => null,
            }
            : null;

    private static HistoryEntry? Entry(JsonElement root, int number, List<DatasetIssue> issues)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("prompt", out var prompt) || prompt.ValueKind != JsonValueKind.String)
        {
            issues.Add(new DatasetIssue(number, "no \"prompt\" string; skipped."));
            return null;
        }

        if (!root.TryGetProperty("scores", out var scores) || scores.ValueKind != JsonValueKind.Object)
        {
            issues.Add(new DatasetIssue(number, "no \"scores\" object; skipped."));
            return null;
        }

        var score = new Dictionary<string, double?>(StringComparer.Ordinal);
        var tokens = new Dictionary<string, int>(StringComparer.Ordinal);
        var cost = new Dictionary<string, double>(StringComparer.Ordinal);
        var models = new List<string>();
        void Seen(string model)
        {
            if (!models.Contains(model))
            {
                models.Add(model);
            }
        }

        foreach (var p in scores.EnumerateObject())
        {
            if (p.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (p.Value.ValueKind != JsonValueKind.Number)
            {
                issues.Add(new DatasetIssue(number, $"score of {p.Name} is not a number; left out."));
                continue;
            }

            if (HistoryDatasets.Score(p.Value.GetDouble(), p.Name, number, issues) is { } s)
            {
                score[p.Name] = s;
                Seen(p.Name);
            }
        }

        if (root.TryGetProperty("output_tokens", out var lengths) && lengths.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in lengths.EnumerateObject())
            {
                if (p.Value.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }

                if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out var t) || t < 0)
                {
                    issues.Add(new DatasetIssue(number, $"output_tokens of {p.Name} is not a whole number ≥ 0; left out."));
                    continue;
                }

                tokens[p.Name] = t;
                Seen(p.Name);
            }
        }

        if (root.TryGetProperty("cost_usd", out var costs) && costs.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in costs.EnumerateObject())
            {
                if (p.Value.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }

                if (p.Value.ValueKind != JsonValueKind.Number || p.Value.GetDouble() is var c && !(c >= 0))
                {
                    issues.Add(new DatasetIssue(number, $"cost_usd of {p.Name} is not a number ≥ 0; left out."));
                    continue;
                }

                cost[p.Name] = c;
                Seen(p.Name);
            }
        }

        if (models.Count == 0)
        {
            issues.Add(new DatasetIssue(number, "no usable score, output length or cost; skipped."));
            return null;
        }

        return new HistoryEntry(prompt.GetString()!, models.ConvertAll(m => new ModelOutcome(
            m, score.GetValueOrDefault(m), tokens.TryGetValue(m, out var t) ? t : null, cost.TryGetValue(m, out var c) ? c : null)));
    }
}
