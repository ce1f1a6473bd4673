using System.Globalization;

namespace Flare.Routing.Profiles;

/// <summary>
/// Flare's generic profile CSV: one row per measured request, columns found by header name (any order,
/// case-insensitive; unknown columns are ignored).
/// <code>
/// input_tokens,output_tokens,concurrency,ttft_ms,tpot_ms,e2e_ms[,error][,request_rate]
/// 512,128,8,95.2,21.4,2813.0
/// 512,128,8,,,,true
/// </code>
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>input_tokens</c>, <c>output_tokens</c> (whole, ≥ 1) and <c>concurrency</c> (requests in flight,
/// ≥ 1) are required columns; at least one of <c>ttft_ms</c>, <c>tpot_ms</c>, <c>e2e_ms</c> must be a column.</item>
/// <item>Latencies are milliseconds, &gt; 0; an empty cell means not measured. A missing TPOT is derived as
/// (e2e − TTFT)/(output − 1), a missing e2e as TTFT + (output − 1)·TPOT.</item>
/// <item><c>error</c> (optional): true/false, 1/0, yes/no; an error row needs no latency and is kept as an
/// error sample. <c>request_rate</c> (optional): the sweep step's arrival rate, requests per second.</item>
/// <item>A successful row must have at least one latency. Rows that break a rule are reported with their line
/// number and skipped; the rest are imported.</item>
/// </list>
/// </remarks>
public static class GenericProfileCsv
{
    /// <summary>The header of the layout, without the optional columns.</summary>
    public const string Header = "input_tokens,output_tokens,concurrency,ttft_ms,tpot_ms,e2e_ms";

    /// <summary>Reads the layout.</summary>
    public static ProfileCsvImport Parse(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        using var rows = CsvText.Rows(reader).GetEnumerator();
        if (!rows.MoveNext())
        {
            return ProfileCsvImport.Failed("The file is empty; expected the header " + Header + ".");
        }

        var header = CsvText.Header(rows.Current.Fields);
        var missing = new[] { "input_tokens", "output_tokens", "concurrency" }.Where(c => !header.ContainsKey(c)).ToList();
        if (missing.Count > 0)
        {
            return ProfileCsvImport.Failed($"Missing column(s) {string.Join(", ", missing)}; expected the header {Header}.");
        }

        if (!new[] { "ttft_ms", "tpot_ms", "e2e_ms" }.Any(header.ContainsKey))
        {
            return ProfileCsvImport.Failed($"No latency column: at least one of ttft_ms, tpot_ms, e2e_ms is needed; expected the header {Header}.");
        }

        var samples = new List<ProfileSample>();
        var issues = new List<CsvRowIssue>();
        while (rows.MoveNext())
        {
            var (line, fields) = rows.Current;
            var problem = TryRow(header, fields, out var sample);
            if (problem is null)
            {
                samples.Add(sample!);
            }
            else
            {
                issues.Add(new CsvRowIssue(line, CsvIssueKind.Malformed, problem));
            }
        }

        return new ProfileCsvImport(samples, issues);
    }

    private static string? TryRow(Dictionary<string, int> header, string[] fields, out ProfileSample? sample)
    {
        sample = null;
        string Cell(string column) => header.TryGetValue(column, out var i) && i < fields.Length ? fields[i] : "";

        if (!CsvText.TryWhole(Cell("input_tokens"), out var input) || input < 1)
        {
            return $"input_tokens '{Cell("input_tokens")}' is not a whole number ≥ 1.";
        }

        if (!CsvText.TryWhole(Cell("output_tokens"), out var output) || output < 1)
        {
            return $"output_tokens '{Cell("output_tokens")}' is not a whole number ≥ 1.";
        }

        if (!CsvText.TryNumber(Cell("concurrency"), out var concurrency) || concurrency < 1)
        {
            return $"concurrency '{Cell("concurrency")}' is not a number ≥ 1.";
        }

        var isError = false;
        var errorText = Cell("error").ToLowerInvariant();
        if (errorText.Length > 0)
        {
            if (errorText is "true" or "1" or "yes")
            {
                isError = true;
            }
            else if (errorText is not ("false" or "0" or "no"))
            {
                return $"error '{Cell("error")}' is not true/false.";
            }
        }

        double? rate = null;
        if (Cell("request_rate").Length > 0)
        {
            if (!CsvText.TryNumber(Cell("request_rate"), out var r) || r <= 0)
            {
                return $"request_rate '{Cell("request_rate")}' is not a positive number.";
            }

            rate = r;
        }

        var latencies = new double?[3];
        var names = new[] { "ttft_ms", "tpot_ms", "e2e_ms" };
        for (var k = 0; k < names.Length; k++)
        {
            var text = Cell(names[k]);
            if (text.Length == 0)
            {
                continue;
            }

            if (!CsvText.TryNumber(text, out var ms) || ms <= 0)
            {
                return $"{names[k]} '{text}' is not a positive number of milliseconds.";
            }

            latencies[k] = ms;
        }

        var (ttft, tpot, e2e) = (latencies[0], latencies[1], latencies[2]);
        if (!isError && ttft is null && tpot is null && e2e is null)
        {
            return "No latency: a successful request needs at least one of ttft_ms, tpot_ms, e2e_ms.";
        }

        if (ttft is { } t && e2e is { } e && e < t)
        {
            return string.Create(CultureInfo.InvariantCulture, $"e2e_ms {e} is below ttft_ms {t}.");
        }

        tpot ??= ProfileSample.DeriveTpotMs(ttft, e2e, output);
        e2e ??= ProfileSample.DeriveE2eMs(ttft, tpot, output);
        sample = new ProfileSample(input, output, concurrency, ttft, tpot, e2e, isError, rate);
        return null;
    }
}
