using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flare.Routing.Profiles;

namespace Flare.Web.Hosting;

/// <summary>
/// <c>fit-profile</c>: fits a deployment's latency curves from a CSV of measured requests and prints the fitted
/// parameters and each curve's R² and cross-validated MAPE as JSON. Touches neither the database nor the web host.
/// </summary>
/// <remarks>
/// Relative paths are resolved against the process's current directory. <c>dotnet run --project Flare.Web</c>
/// starts the program in <c>Flare.Web/</c>, not where it was invoked, so pass absolute paths there
/// (<c>--csv "$PWD/../shared/data/..."</c>). Exit codes: 0 fitted (poor curves are flagged in the JSON, not
/// failed), 1 the file could not be read or nothing could be fitted, 2 bad arguments.
/// </remarks>
internal static class FitProfileVerb
{
    public const string Name = "fit-profile";

    public const string Usage = "fit-profile --csv FILE ...";

    public const string Summary = "Fit latency curves from a profile CSV and print them as JSON (no database; fit-profile --help).";

    private const int MaxIssuesShown = 50;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Task<int> RunAsync(string[] args) => RunAsync(args, Console.Out, Console.Error, Environment.CurrentDirectory);

    internal static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, string currentDirectory)
    {
        if (args.Any(a => a is "--help" or "-h"))
        {
            await stdout.WriteAsync(Help);
            return 0;
        }

        if (!TryParse(args, out var options, out var usageError))
        {
            await stderr.WriteLineAsync($"flare {Name}: {usageError}");
            await stderr.WriteAsync(Help);
            return 2;
        }

        var csvPath = Path.GetFullPath(options["csv"], currentDirectory);
        if (!File.Exists(csvPath))
        {
            await stderr.WriteLineAsync($"flare {Name}: no file at {csvPath} (relative paths are resolved against {currentDirectory}).");
            return 1;
        }

        ProfileCsvImport import;
        IReadOnlyList<LlmInferenceBenchConfiguration> configurations = [];
        string? ttftPath = null;
        var ttftApplied = 0;
        LlmInferenceBenchFilter? filter = null;
        if (options["layout"] == "generic")
        {
            using var reader = File.OpenText(csvPath);
            import = GenericProfileCsv.Parse(reader);
        }
        else
        {
            filter = new LlmInferenceBenchFilter(
                options.GetValueOrDefault("model"), options.GetValueOrDefault("hardware"), options.GetValueOrDefault("framework"),
                options.TryGetValue("count", out var count) ? int.Parse(count, CultureInfo.InvariantCulture) : null);
            ttftPath = options.TryGetValue("ttft", out var ttft)
                ? Path.GetFullPath(ttft, currentDirectory)
                : DefaultTtftFile(csvPath);
            if (ttftPath is not null && !File.Exists(ttftPath))
            {
                await stderr.WriteLineAsync($"flare {Name}: no TTFT file at {ttftPath}.");
                return 1;
            }

            using var reader = File.OpenText(csvPath);
            using var ttftReader = ttftPath is null ? null : File.OpenText(ttftPath);
            var bench = LlmInferenceBenchCsv.Parse(reader, ttftReader, filter, Path.GetFileName(ttftPath) ?? "TTFT file");
            (import, configurations, ttftApplied) = (bench.Import, bench.Configurations, bench.TtftRowsApplied);
            if (configurations.Count > 1)
            {
                await stderr.WriteLineAsync(
                    $"flare {Name}: the filter matches {configurations.Count} configurations; a profile is one deployment. " +
                    "Narrow it with --model, --hardware, --framework, --count:");
                foreach (var c in configurations)
                {
                    await stderr.WriteLineAsync($"  --model \"{c.Model}\" --hardware \"{c.Hardware}\" --framework \"{c.Framework}\" --count {c.HardwareCount}");
                }

                return 1;
            }
        }

        if (import.Failure is not null)
        {
            await stderr.WriteLineAsync($"flare {Name}: {csvPath}: {import.Failure}");
            return 1;
        }

        var fitOptions = new ProfileFitOptions
        {
            Folds = options.TryGetValue("folds", out var folds) ? int.Parse(folds, CultureInfo.InvariantCulture) : ProfileFitOptions.Default.Folds,
            PoorFitMape = options.TryGetValue("poor-mape", out var poor) ? double.Parse(poor, CultureInfo.InvariantCulture) : ProfileFitOptions.Default.PoorFitMape,
        };
        var result = ProfileFitter.Fit(import.Samples, fitOptions);
        if (!result.Succeeded)
        {
            foreach (var issue in import.Issues.Take(MaxIssuesShown))
            {
                await stderr.WriteLineAsync($"  {issue}");
            }

            await stderr.WriteLineAsync($"flare {Name}: nothing to fit from {csvPath}: {result.Failure}");
            return 1;
        }

        var slo = new LatencySlo(
            Number(options, "slo-ttft-ms"), Number(options, "slo-tpot-ms"), Number(options, "slo-e2e-ms"));
        var json = Report(csvPath, options["layout"], ttftPath, filter, configurations, ttftApplied, import, result.Fit, fitOptions, slo);
        var text = json.ToJsonString(Indented);
        await stdout.WriteLineAsync(text);
        if (options.TryGetValue("out", out var outFile))
        {
            var outPath = Path.GetFullPath(outFile, currentDirectory);
            await File.WriteAllTextAsync(outPath, text + Environment.NewLine);
            await stderr.WriteLineAsync($"Wrote {outPath}.");
        }

        return 0;
    }

    private static string Help =>
        $"""
        Usage: dotnet run --project Flare.Web -- {Name} --csv FILE --layout generic|llm-inference-bench [options]

        Fits TTFT(L_in, c), TPOT(c, ctx) and e2e = TTFT + (L_out - 1)·TPOT from measured requests and prints, as
        JSON, the parameters and each curve's R² and cross-validated MAPE. Does not touch the database.
        Relative paths are resolved against the current directory (under dotnet run: Flare.Web/), so prefer
        absolute paths, e.g. --csv "$PWD/../shared/data/LLM-Inference-Bench/Plots/All_results.csv".

        Options:
          --csv FILE              The CSV to fit (required).
          --layout NAME           generic: {GenericProfileCsv.Header}[,error][,request_rate]
                                  llm-inference-bench: LLM-Inference-Bench's Plots/All_results.csv.
          --out FILE              Also write the JSON to FILE.
          --folds K               Cross-validation folds (default {ProfileFitOptions.Default.Folds}).
          --poor-mape F           Flag a curve whose cross-validated MAPE exceeds F (default {ProfileFitOptions.Default.PoorFitMape.ToString(CultureInfo.InvariantCulture)}).
          --slo-ttft-ms MS, --slo-tpot-ms MS, --slo-e2e-ms MS
                                  Also report goodput against this SLO.
        llm-inference-bench only (the rows must come down to one configuration):
          --model NAME            e.g. Meta-Llama-3-8B or meta-llama/Meta-Llama-3-8B
          --hardware NAME         e.g. A100 or "Nvidia A100 GPU"
          --framework NAME        e.g. vLLM (llama.cpp rows are always left out)
          --count N               Num of Hardware, e.g. 4
          --ttft FILE             TTFT file (default: Fig_22/all_results_TTFT_ITL.csv beside the CSV, if present).

        """;

    private static readonly HashSet<string> Known =
    [
        "csv", "layout", "out", "folds", "poor-mape", "slo-ttft-ms", "slo-tpot-ms", "slo-e2e-ms",
        "model", "hardware", "framework", "count", "ttft",
    ];

    private static bool TryParse(string[] args, out Dictionary<string, string> options, out string error)
    {
        if (!VerbOptions.TryParse(args, Known, out options, out error))
        {
            return false;
        }

        if (!options.ContainsKey("csv"))
        {
            error = "--csv FILE is required.";
            return false;
        }

        if (!options.TryGetValue("layout", out var layout) || layout is not ("generic" or "llm-inference-bench"))
        {
            error = "--layout must be generic or llm-inference-bench.";
            return false;
        }

        if (layout == "generic" && new[] { "model", "hardware", "framework", "count", "ttft" }.FirstOrDefault(options.ContainsKey) is { } benchOnly)
        {
            error = $"--{benchOnly} applies only to --layout llm-inference-bench.";
            return false;
        }

        foreach (var (name, min) in new[] { ("count", 1), ("folds", 2) })
        {
            if (options.TryGetValue(name, out var v) && (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < min))
            {
                error = $"--{name} must be a whole number ≥ {min}.";
                return false;
            }
        }

        foreach (var name in new[] { "poor-mape", "slo-ttft-ms", "slo-tpot-ms", "slo-e2e-ms" })
        {
            if (options.TryGetValue(name, out var v) && (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !(d > 0) || !double.IsFinite(d)))
            {
                error = $"--{name} must be a positive number.";
                return false;
            }
        }

        return true;
    }

    private static double? Number(Dictionary<string, string> options, string name) =>
        options.TryGetValue(name, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : null;

    private static string? DefaultTtftFile(string csvPath)
    {
        var candidate = Path.Combine(Path.GetDirectoryName(csvPath) ?? ".", "Fig_22", "all_results_TTFT_ITL.csv");
        return File.Exists(candidate) ? candidate : null;
    }

    private static JsonObject Report(
        string csvPath, string layout, string? ttftPath, LlmInferenceBenchFilter? filter,
        IReadOnlyList<LlmInferenceBenchConfiguration> configurations, int ttftApplied, ProfileCsvImport import,
        ProfileFit fit, ProfileFitOptions fitOptions, LatencySlo slo)
    {
        var model = fit.Model;
        var used = import.Samples.Where(s => !s.IsError).ToList();
        var input = Median(used.Select(s => s.InputTokens));
        var output = Median(used.Select(s => s.OutputTokens));

        var json = new JsonObject
        {
            ["source"] = new JsonObject
            {
                ["csv"] = csvPath,
                ["layout"] = layout,
                ["ttftCsv"] = ttftPath,
                ["filter"] = filter is null ? null : new JsonObject
                {
                    ["model"] = filter.Model,
                    ["hardware"] = filter.Hardware,
                    ["framework"] = filter.Framework,
                    ["count"] = filter.HardwareCount,
                },
                ["configuration"] = configurations.Count == 1 ? configurations[0].ToString() : null,
            },
            ["import"] = new JsonObject
            {
                ["samples"] = import.Samples.Count,
                ["malformedRows"] = import.Malformed.Count(),
                ["excludedRows"] = import.Excluded.Count(),
                ["ttftRowsApplied"] = layout == "generic" ? null : ttftApplied,
                ["issues"] = new JsonArray([.. import.Issues.Take(MaxIssuesShown).Select(i => (JsonNode)new JsonObject
                {
                    ["line"] = i.LineNumber,
                    ["kind"] = i.Kind.ToString(),
                    ["source"] = i.Source,
                    ["message"] = i.Message,
                })]),
                ["issuesNotShown"] = Math.Max(0, import.Issues.Count - MaxIssuesShown),
            },
            ["fit"] = new JsonObject
            {
                ["samplesUsed"] = fit.SamplesUsed,
                ["errorSamples"] = fit.ErrorSamples,
                ["maxConcurrency"] = fit.MaxConcurrency,
                ["folds"] = fitOptions.Folds,
                ["foldSeed"] = fitOptions.FoldSeed,
                ["poorFitMape"] = fitOptions.PoorFitMape,
                ["model"] = "P = a + b·L_in; D = d + e·c + f·c·ctx, ctx = L_in + L_out/2; R = (c−1)·P/((L_out−1)·D), σ = Rᵏ/(1+Rᵏ); n = max(1, ⌊M/L_in⌋) prompts per prefill step, φ = share of the c−1 others in my and earlier batches of n (1 if n ≥ c or no M); TTFT = P + σ·φ·(c−1)·g·L_in + h·(c−1) + (1−σ)·D/2·[c>1]; TPOT = D + (1−σ·φ)·(c−1)·g·L_in/(L_out−1); e2e = TTFT + (L_out−1)·TPOT (ms)",
                ["parameters"] = new JsonObject
                {
                    ["ttftBaseMs"] = G(model.TtftBaseMs),
                    ["ttftPerInputTokenMs"] = G(model.TtftPerInputTokenMs),
                    ["ttftPerQueuedInputTokenMs"] = G(model.TtftPerQueuedInputTokenMs),
                    ["ttftPerQueuedRequestMs"] = G(model.TtftPerQueuedRequestMs),
                    ["tpotBaseMs"] = G(model.TpotBaseMs),
                    ["tpotPerRequestMs"] = G(model.TpotPerRequestMs),
                    ["tpotPerContextTokenMs"] = G(model.TpotPerContextTokenMs),
                    ["ttftPrefillTokensPerStep"] = model.TtftPrefillTokensPerStep is { } budget ? G(budget) : null,
                    ["prefillShareSteepness"] = G(model.PrefillShareSteepness),
                },
                ["curves"] = new JsonObject
                {
                    ["ttft"] = Curve(fit.Ttft),
                    ["tpot"] = Curve(fit.Tpot),
                    ["e2e"] = Curve(fit.E2e),
                },
            },
            ["throughput"] = new JsonObject
            {
                ["measured"] = new JsonArray([.. ProfileMetrics.MeasuredThroughput(used).Select(Point)]),
                ["fittedSaturation"] = new JsonObject
                {
                    ["inputTokens"] = input,
                    ["outputTokens"] = output,
                    ["point"] = Point(model.SaturationThroughput(input, output, fit.MaxConcurrency)),
                },
            },
        };

        if (slo.MaxTtftMs is not null || slo.MaxTpotMs is not null || slo.MaxE2eMs is not null)
        {
            json["goodput"] = new JsonObject
            {
                ["slo"] = new JsonObject { ["maxTtftMs"] = slo.MaxTtftMs, ["maxTpotMs"] = slo.MaxTpotMs, ["maxE2eMs"] = slo.MaxE2eMs },
                ["measuredRequestsPerSecond"] = ProfileMetrics.GoodputFromSamples(import.Samples, slo) is { } g ? G(g) : null,
                ["fitted"] = model.Goodput(input, output, slo, fit.MaxConcurrency) is { } p ? Point(p) : null,
            };
        }

        return json;
    }

    private static JsonObject Curve(CurveFitQuality q) => new()
    {
        ["observations"] = q.Observations,
        ["rSquared"] = q.RSquared is { } r ? G(r) : null,
        ["mape"] = q.Mape is { } m ? G(m) : null,
        ["crossValidatedMape"] = q.CrossValidatedMape is { } cv ? G(cv) : null,
        ["verdict"] = q.Verdict.ToString(),
        ["flagged"] = q.IsFlagged,
        ["note"] = q.Note,
    };

    private static JsonNode Point(ThroughputPoint p) => new JsonObject
    {
        ["concurrency"] = p.Concurrency,
        ["requestsPerSecond"] = G(p.RequestsPerSecond),
        ["outputTokensPerSecond"] = G(p.OutputTokensPerSecond),
        ["totalTokensPerSecond"] = G(p.TotalTokensPerSecond),
    };

    private static int Median(IEnumerable<int> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 1 : sorted[sorted.Count / 2];
    }

    // Six significant digits: the figures are measurements, not exact values.
    private static double G(double value) => double.Parse(value.ToString("G6", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
