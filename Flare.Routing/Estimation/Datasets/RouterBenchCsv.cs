using System.Globalization;

namespace Flare.Routing.Estimation.Datasets;

/// <summary>
/// RouterBench's wide CSV (Hu et al. 2024; its <c>routerbench_0shot</c> table written with pandas): one row per
/// prompt with the columns <c>sample_id</c>, <c>prompt</c>, <c>eval_name</c>, one score column per model (named
/// after the model), <c>&lt;model&gt;|total_cost</c> (USD) and <c>&lt;model&gt;|model_response</c>.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>A prompt cell that is a Python list of strings (<c>['system text', 'user text']</c>) is joined with line
/// breaks; any other cell is the prompt as written.</item>
/// <item>An empty score cell is a missing score, not a zero. A score that is not a number in [0, 1] is reported
/// and left out.</item>
/// <item>Output tokens are counted in the response text with the given tokenizer; an empty response is unknown.</item>
/// <item>Other columns without a <c>|</c> (<c>oracle_model_to_route_to</c>, an unnamed pandas index) are not
/// models: a column is a model when it has a <c>|model_response</c> or <c>|total_cost</c> column, or, when the
/// file has none, when it is not one of the known non-model columns.</item>
/// </list>
/// </remarks>
public static class RouterBenchCsv
{
    private static readonly HashSet<string> NotModels = new(StringComparer.OrdinalIgnoreCase)
    {
        "", "sample_id", "prompt", "eval_name", "oracle_model_to_route_to", "Unnamed: 0", "index",
    };

    /// <summary>Reads the table; <paramref name="tokenCounter"/> counts the responses' tokens.</summary>
    public static HistoryDataset Parse(TextReader reader, ITokenCounter tokenCounter) => HistoryDatasets.Collect(Read(reader, tokenCounter));

    /// <summary>Reads the table one row at a time (the record number is the row's first line).</summary>
    public static IEnumerable<HistoryRecord> Read(TextReader reader, ITokenCounter tokenCounter)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(tokenCounter);
        return ReadRows(reader, tokenCounter);
    }

    private static IEnumerable<HistoryRecord> ReadRows(TextReader reader, ITokenCounter tokenCounter)
    {
        using var records = CsvRecords.Read(reader).GetEnumerator();
        if (!records.MoveNext())
        {
            yield return HistoryRecord.Failed(1, "The file is empty; expected a header with sample_id, prompt and one column per model.");
            yield break;
        }

        var header = records.Current.Fields.ConvertAll(h => h.Trim());
        var promptColumn = header.FindIndex(h => h.Equals("prompt", StringComparison.OrdinalIgnoreCase));
        if (promptColumn < 0)
        {
            yield return HistoryRecord.Failed(records.Current.Line, $"No 'prompt' column; the header is: {string.Join(",", header)}.");
            yield break;
        }

        var idColumn = header.FindIndex(h => h.Equals("sample_id", StringComparison.OrdinalIgnoreCase));

        var suffixed = header.Where(h => h.Contains('|')).Select(h => h[..h.IndexOf('|')]).ToHashSet(StringComparer.Ordinal);
        var models = new List<(string Name, int Score, int Cost, int Response)>();
        for (var i = 0; i < header.Count; i++)
        {
            var name = header[i];
            if (name.Contains('|') || NotModels.Contains(name) || (suffixed.Count > 0 && !suffixed.Contains(name)))
            {
                continue;
            }

            models.Add((name, i, header.IndexOf(name + "|total_cost"), header.IndexOf(name + "|model_response")));
        }

        if (models.Count == 0)
        {
            yield return HistoryRecord.Failed(records.Current.Line, $"No model score column; the header is: {string.Join(",", header)}.");
            yield break;
        }

        while (records.MoveNext())
        {
            var (line, fields) = records.Current;
            var issues = new List<DatasetIssue>();
            string Cell(int column) => column >= 0 && column < fields.Count ? fields[column] : "";
            var id = Cell(idColumn).Trim() is { Length: > 0 } sampleId ? sampleId : null;

            var prompt = Cell(promptColumn);
            if (PythonLiteral.TryParseStringList(prompt, out var parts))
            {
                prompt = string.Join("\n", parts);
            }

            if (string.IsNullOrWhiteSpace(prompt))
            {
                issues.Add(new DatasetIssue(line, "empty prompt; skipped."));
                yield return new HistoryRecord(line, null, issues, id);
                continue;
            }

            var outcomes = new List<ModelOutcome>();
            foreach (var (name, scoreColumn, costColumn, responseColumn) in models)
            {
                double? score = null;
                var scoreCell = Cell(scoreColumn).Trim();
                if (scoreCell.Length > 0 && !scoreCell.Equals("nan", StringComparison.OrdinalIgnoreCase))
                {
                    if (double.TryParse(scoreCell, NumberStyles.Float, CultureInfo.InvariantCulture, out var s))
                    {
                        score = HistoryDatasets.Score(s, name, line, issues);
                    }
                    else
                    {
                        issues.Add(new DatasetIssue(line, $"score '{scoreCell}' of {name} is not a number; left out."));
                    }
                }

                double? cost = null;
                var costCell = Cell(costColumn).Trim();
                if (costCell.Length > 0 && !costCell.Equals("nan", StringComparison.OrdinalIgnoreCase))
                {
                    if (double.TryParse(costCell, NumberStyles.Float, CultureInfo.InvariantCulture, out var c) && c >= 0 && double.IsFinite(c))
                    {
                        cost = c;
                    }
                    else
                    {
                        issues.Add(new DatasetIssue(line, $"total_cost '{costCell}' of {name} is not a number ≥ 0; left out."));
                    }
                }

                int? tokens = null;
                var response = Cell(responseColumn);
                if (PythonLiteral.TryParseStringList(response, out var responseParts))
                {
                    response = string.Join("\n", responseParts);
                }

                if (!string.IsNullOrEmpty(response) && !response.Equals("nan", StringComparison.Ordinal))
                {
                    tokens = tokenCounter.Count(response);
                }

                if (score is not null || cost is not null || tokens is not null)
                {
                    outcomes.Add(new ModelOutcome(name, score, tokens, cost));
                }
            }

            if (outcomes.Count == 0)
            {
                issues.Add(new DatasetIssue(line, "no score, cost or response for any model; skipped."));
                yield return new HistoryRecord(line, null, issues, id);
                continue;
            }

            yield return new HistoryRecord(line, new HistoryEntry(prompt, outcomes), issues, id);
        }
    }
}
