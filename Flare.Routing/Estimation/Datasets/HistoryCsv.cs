using System.Globalization;

namespace Flare.Routing.Estimation.Datasets;

/// <summary>
/// Flare's generic history CSV: one model's outcome on one prompt a row (the "long" layout a request log or an
/// evaluation harness writes), with a header.
/// <code>
/// prompt,model,score,output_tokens,cost_usd,id
/// "Translate 'cat' to French.",gpt-4o,1,3,0.00004,q1
/// "Translate 'cat' to French.",llama-3-8b,0.5,,,q1
/// </code>
/// </summary>
/// <remarks>
/// <c>prompt</c>, <c>model</c> and <c>score</c> are required columns (any order, names case-insensitive); an empty
/// score cell is "not graded", not zero. <c>output_tokens</c> (whole number ≥ 0), <c>cost_usd</c> (number ≥ 0) and
/// <c>id</c> (the prompt's id in its source) are optional; other columns are ignored. Rows of one prompt need not be
/// adjacent: rows with the same prompt text are one prompt. Fields follow RFC 4180 (quotes, doubled quotes, line
/// breaks inside quotes). A row that breaks a rule is reported with its line number and skipped; a bad value is
/// reported and left out.
/// </remarks>
public static class HistoryCsv
{
    /// <summary>Reads the table.</summary>
    public static HistoryDataset Parse(TextReader reader) => HistoryDatasets.Collect(Read(reader));

    /// <summary>Reads the table one row at a time (the record number is the row's first line).</summary>
    public static IEnumerable<HistoryRecord> Read(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return ReadRows(reader);
    }

    private static IEnumerable<HistoryRecord> ReadRows(TextReader reader)
    {
        using var records = CsvRecords.Read(reader).GetEnumerator();
        if (!records.MoveNext())
        {
            yield return HistoryRecord.Failed(1, "The file is empty; expected a header with prompt, model and score columns.");
            yield break;
        }

        var header = records.Current.Fields.ConvertAll(h => h.Trim().TrimStart('\uFEFF'));
        int Column(string name) => header.FindIndex(h => h.Equals(name, StringComparison.OrdinalIgnoreCase));
        var (prompt, model, score) = (Column("prompt"), Column("model"), Column("score"));
        var (tokens, cost, id) = (Column("output_tokens"), Column("cost_usd"), Column("id"));
        var missing = new[] { ("prompt", prompt), ("model", model), ("score", score) }.Where(c => c.Item2 < 0).Select(c => c.Item1).ToList();
        if (missing.Count > 0)
        {
            yield return HistoryRecord.Failed(records.Current.Line,
                $"No {string.Join(", ", missing)} column; the header must name prompt, model and score (and optionally output_tokens, cost_usd, id). It is: {string.Join(",", header)}.");
            yield break;
        }

        while (records.MoveNext())
        {
            var (line, fields) = records.Current;
            string Cell(int column) => column >= 0 && column < fields.Count ? fields[column] : "";
            var issues = new List<DatasetIssue>();
            var externalId = Cell(id).Trim() is { Length: > 0 } given ? given : null;
            var text = Cell(prompt);
            var name = Cell(model).Trim();
            if (string.IsNullOrWhiteSpace(text) || name.Length == 0)
            {
                issues.Add(new DatasetIssue(line, string.IsNullOrWhiteSpace(text) ? "empty prompt; skipped." : "empty model; skipped."));
                yield return new HistoryRecord(line, null, issues, externalId);
                continue;
            }

            double? s = null;
            if (Cell(score).Trim() is { Length: > 0 } scoreCell)
            {
                if (double.TryParse(scoreCell, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                {
                    s = HistoryDatasets.Score(value, name, line, issues);
                }
                else
                {
                    issues.Add(new DatasetIssue(line, $"score '{scoreCell}' of {name} is not a number; left out."));
                }
            }

            int? t = null;
            if (Cell(tokens).Trim() is { Length: > 0 } tokensCell)
            {
                if (int.TryParse(tokensCell, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0)
                {
                    t = n;
                }
                else
                {
                    issues.Add(new DatasetIssue(line, $"output_tokens '{tokensCell}' of {name} is not a whole number ≥ 0; left out."));
                }
            }

            double? c = null;
            if (Cell(cost).Trim() is { Length: > 0 } costCell)
            {
                if (double.TryParse(costCell, NumberStyles.Float, CultureInfo.InvariantCulture, out var usd) && usd >= 0 && double.IsFinite(usd))
                {
                    c = usd;
                }
                else
                {
                    issues.Add(new DatasetIssue(line, $"cost_usd '{costCell}' of {name} is not a number ≥ 0; left out."));
                }
            }

            if (s is null && t is null && c is null)
            {
                issues.Add(new DatasetIssue(line, "no usable score, output length or cost; skipped."));
                yield return new HistoryRecord(line, null, issues, externalId);
                continue;
            }

            yield return new HistoryRecord(line, new HistoryEntry(text, [new ModelOutcome(name, s, t, c)]), issues, externalId);
        }
    }
}
