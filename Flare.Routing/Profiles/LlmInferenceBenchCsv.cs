using System.Globalization;

namespace Flare.Routing.Profiles;

/// <summary>Which LLM-Inference-Bench rows to import. A null field matches every row; matching ignores case.</summary>
/// <param name="Model">The model: the full name (<c>meta-llama/Meta-Llama-3-8B</c>) or the part after the
/// slash (<c>Meta-Llama-3-8B</c>).</param>
/// <param name="Hardware">The hardware: the full name (<c>Nvidia A100 GPU</c>) or one of its words (<c>A100</c>).</param>
/// <param name="Framework">The serving framework, e.g. <c>vLLM</c>.</param>
/// <param name="HardwareCount">The "Num of Hardware" column: GPUs (accelerators) serving the model.</param>
public sealed record LlmInferenceBenchFilter(string? Model = null, string? Hardware = null, string? Framework = null, int? HardwareCount = null)
{
    /// <summary>True when the row's configuration passes every field that is set.</summary>
    public bool Matches(LlmInferenceBenchConfiguration c)
    {
        ArgumentNullException.ThrowIfNull(c);
        return (Model is null || Same(c.Model, Model) || Same(c.Model[(c.Model.IndexOf('/') + 1)..], Model))
            && (Hardware is null || Same(c.Hardware, Hardware)
                || c.Hardware.Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(w => Same(w, Hardware)))
            && (Framework is null || Same(c.Framework, Framework))
            && (HardwareCount is null || c.HardwareCount == HardwareCount);
    }

    private static bool Same(string a, string b) => string.Equals(a.Trim(), b.Trim(), StringComparison.OrdinalIgnoreCase);
}

/// <summary>One measured configuration of LLM-Inference-Bench: a model served by a framework on some hardware.</summary>
public sealed record LlmInferenceBenchConfiguration(string Model, string Hardware, string Framework, int HardwareCount)
{
    public override string ToString() => $"{Framework} {Model} on {HardwareCount}× {Hardware}";
}

/// <summary>What <see cref="LlmInferenceBenchCsv.Parse"/> read.</summary>
/// <param name="Import">The samples and the rows not used.</param>
/// <param name="Configurations">The distinct configurations of the imported samples. A profile is one
/// deployment, so more than one means the filter is too loose.</param>
/// <param name="TtftRowsApplied">Imported rows that got a measured TTFT from the TTFT file.</param>
public sealed record LlmInferenceBenchImport(
    ProfileCsvImport Import, IReadOnlyList<LlmInferenceBenchConfiguration> Configurations, int TtftRowsApplied);

/// <summary>
/// Reads the measured runs of LLM-Inference-Bench (argonne-lcf/LLM-Inference-Bench, arXiv 2411.00136):
/// <c>Plots/All_results.csv</c> and, optionally, <c>Plots/Fig_22/all_results_TTFT_ITL.csv</c>.
/// </summary>
/// <remarks>
/// <para>All_results columns: <c>Hardware, Num of Hardware, Framework, Model, Input Output Length, Batch Size,
/// Latency, Throughput</c>. Each row is one run: <c>Batch Size</c> requests sent together, each with input =
/// output = <c>Input Output Length</c> tokens; <c>Latency</c> is the seconds until the whole batch finished;
/// <c>Throughput</c> = batch·(in + out)/Latency tokens per second.</para>
/// <para>Assumptions made to turn a row into a <see cref="ProfileSample"/> (one sample per row, standing for a
/// typical request of the batch):</para>
/// <list type="bullet">
/// <item>concurrency = batch size (all requests of the batch are in flight together);</item>
/// <item>e2e = Latency: requests of equal lengths that start together finish together (within one decode step);</item>
/// <item>TTFT is not in this file. It is taken from the TTFT file where that has a row for the same hardware,
/// count, framework, model, input length and batch size (7–8B models, input 1024, batch 16). That file labels
/// the output length 1, but its <c>end_latency</c> equals the All_results Latency of the input = output = 1024
/// run, so its TTFT is that run's; every request of the batch is taken to get its first token then (the batch
/// is prefilled together). Elsewhere TTFT is unknown and left null — the fitter then flags the TTFT curve as not
/// validated rather than inventing one;</item>
/// <item>TPOT = (e2e − TTFT)/(output − 1) where TTFT is known, else null.</item>
/// </list>
/// <para>Left out, as <see cref="CsvIssueKind.Excluded"/>: <c>llama.cpp</c> rows (their Throughput is not
/// batch·(in + out)/Latency, so Latency means something else), and any other row whose Throughput disagrees
/// with batch·2·length/Latency by more than 5 %. Rows of configurations the filter does not match are skipped
/// silently. Malformed rows are reported with their line number; the rest are imported.</para>
/// </remarks>
public static class LlmInferenceBenchCsv
{
    private static readonly string[] Columns =
        ["Hardware", "Num of Hardware", "Framework", "Model", "Input Output Length", "Batch Size", "Latency", "Throughput"];

    private static readonly string[] TtftColumns =
        ["Hardware", "Num of Hardware", "Framework", "Model", "Input Length", "Batch Size", "TTFT Latency"];

    /// <summary>How far Throughput may stray from batch·2·length/Latency before a row is left out (5 %).</summary>
    public const double ThroughputTolerance = 0.05;

    /// <summary>Reads All_results.csv (and the TTFT file, when given) for the configurations <paramref name="filter"/> matches.</summary>
    /// <param name="allResults">The <c>All_results.csv</c> layout.</param>
    /// <param name="ttft">The <c>all_results_TTFT_ITL.csv</c> layout, or null.</param>
    /// <param name="filter">Which configurations to import.</param>
    /// <param name="ttftSource">How issues in the TTFT file name it (default "TTFT file").</param>
    public static LlmInferenceBenchImport Parse(TextReader allResults, TextReader? ttft, LlmInferenceBenchFilter filter, string ttftSource = "TTFT file")
    {
        ArgumentNullException.ThrowIfNull(allResults);
        ArgumentNullException.ThrowIfNull(filter);
        var issues = new List<CsvRowIssue>();
        var ttftByRun = new Dictionary<(LlmInferenceBenchConfiguration, int, int), double>();
        if (ttft is not null)
        {
            var failure = ReadTtft(ttft, filter, ttftByRun, issues, ttftSource);
            if (failure is not null)
            {
                return new LlmInferenceBenchImport(ProfileCsvImport.Failed(failure), [], 0);
            }
        }

        using var rows = CsvText.Rows(allResults).GetEnumerator();
        if (!rows.MoveNext())
        {
            return new LlmInferenceBenchImport(ProfileCsvImport.Failed("The file is empty; expected the All_results.csv header."), [], 0);
        }

        var header = CsvText.Header(rows.Current.Fields);
        var missing = Columns.Where(c => !header.ContainsKey(c)).ToList();
        if (missing.Count > 0)
        {
            return new LlmInferenceBenchImport(ProfileCsvImport.Failed(
                $"Missing column(s) {string.Join(", ", missing)}; expected {string.Join(", ", Columns)}."), [], 0);
        }

        var samples = new List<ProfileSample>();
        var configurations = new List<LlmInferenceBenchConfiguration>();
        var applied = 0;
        while (rows.MoveNext())
        {
            var (line, fields) = rows.Current;
            string Cell(string column) => header[column] < fields.Length ? fields[header[column]] : "";

            if (fields.Length < Columns.Length)
            {
                issues.Add(new(line, CsvIssueKind.Malformed, $"{fields.Length} fields; expected {Columns.Length}."));
                continue;
            }

            int length = 0, batch = 0;
            double latency = 0, throughput = 0;
            var problem = ReadConfiguration(Cell, out var configuration);
            if (problem is null && (!CsvText.TryWhole(Cell("Input Output Length"), out length) || length < 2))
            {
                problem = $"Input Output Length '{Cell("Input Output Length")}' is not a whole number ≥ 2.";
            }

            if (problem is null && (!CsvText.TryWhole(Cell("Batch Size"), out batch) || batch < 1))
            {
                problem = $"Batch Size '{Cell("Batch Size")}' is not a whole number ≥ 1.";
            }

            if (problem is null && (!CsvText.TryNumber(Cell("Latency"), out latency) || latency <= 0))
            {
                problem = $"Latency '{Cell("Latency")}' is not a positive number of seconds.";
            }

            if (problem is null && (!CsvText.TryNumber(Cell("Throughput"), out throughput) || throughput <= 0))
            {
                problem = $"Throughput '{Cell("Throughput")}' is not a positive number.";
            }

            if (problem is not null)
            {
                issues.Add(new(line, CsvIssueKind.Malformed, problem));
                continue;
            }

            if (!filter.Matches(configuration!))
            {
                continue;
            }

            if (string.Equals(configuration!.Framework, "llama.cpp", StringComparison.OrdinalIgnoreCase))
            {
                issues.Add(new(line, CsvIssueKind.Excluded, "llama.cpp rows are left out: their Throughput is not batch·(in + out)/Latency."));
                continue;
            }

            var expected = batch * 2.0 * length / latency;
            if (Math.Abs(throughput - expected) > ThroughputTolerance * expected)
            {
                issues.Add(new(line, CsvIssueKind.Excluded, string.Create(CultureInfo.InvariantCulture,
                    $"Throughput {throughput:G6} disagrees with batch·2·length/Latency = {expected:G6} by more than {ThroughputTolerance:P0}.")));
                continue;
            }

            var e2eMs = latency * 1000.0;
            double? ttftMs = ttftByRun.TryGetValue((configuration, length, batch), out var t) && t * 1000.0 < e2eMs ? t * 1000.0 : null;
            if (ttftMs is not null)
            {
                applied++;
            }

            samples.Add(new ProfileSample(length, length, batch, ttftMs, ProfileSample.DeriveTpotMs(ttftMs, e2eMs, length), e2eMs));
            if (!configurations.Contains(configuration))
            {
                configurations.Add(configuration);
            }
        }

        return new LlmInferenceBenchImport(new ProfileCsvImport(samples, issues), configurations, applied);
    }

    private static string? ReadConfiguration(Func<string, string> cell, out LlmInferenceBenchConfiguration? configuration)
    {
        configuration = null;
        foreach (var column in new[] { "Hardware", "Framework", "Model" })
        {
            if (cell(column).Length == 0)
            {
                return $"{column} is empty.";
            }
        }

        if (!CsvText.TryWhole(cell("Num of Hardware"), out var count) || count < 1)
        {
            return $"Num of Hardware '{cell("Num of Hardware")}' is not a whole number ≥ 1.";
        }

        configuration = new LlmInferenceBenchConfiguration(cell("Model"), cell("Hardware"), cell("Framework"), count);
        return null;
    }

    private static string? ReadTtft(
        TextReader reader, LlmInferenceBenchFilter filter, Dictionary<(LlmInferenceBenchConfiguration, int, int), double> ttftByRun,
        List<CsvRowIssue> issues, string source)
    {
        using var rows = CsvText.Rows(reader).GetEnumerator();
        if (!rows.MoveNext())
        {
            return $"The {source} is empty.";
        }

        var header = CsvText.Header(rows.Current.Fields);
        var missing = TtftColumns.Where(c => !header.ContainsKey(c)).ToList();
        if (missing.Count > 0)
        {
            return $"The {source} lacks column(s) {string.Join(", ", missing)}.";
        }

        while (rows.MoveNext())
        {
            var (line, fields) = rows.Current;
            string Cell(string column) => header[column] < fields.Length ? fields[header[column]] : "";

            int input = 0, batch = 0;
            var seconds = 0.0;
            var problem = ReadConfiguration(Cell, out var configuration);
            if (problem is null && (!CsvText.TryWhole(Cell("Input Length"), out input) || input < 1))
            {
                problem = $"Input Length '{Cell("Input Length")}' is not a whole number ≥ 1.";
            }

            if (problem is null && (!CsvText.TryWhole(Cell("Batch Size"), out batch) || batch < 1))
            {
                problem = $"Batch Size '{Cell("Batch Size")}' is not a whole number ≥ 1.";
            }

            if (problem is null && (!CsvText.TryNumber(Cell("TTFT Latency"), out seconds) || seconds <= 0))
            {
                problem = $"TTFT Latency '{Cell("TTFT Latency")}' is not a positive number of seconds.";
            }

            if (problem is not null)
            {
                issues.Add(new(line, CsvIssueKind.Malformed, problem, source));
                continue;
            }

            if (filter.Matches(configuration!))
            {
                ttftByRun[(configuration!, input, batch)] = seconds;
            }
        }

        return null;
    }
}
