using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flare.Routing.Estimation;
using Flare.Routing.Estimation.Datasets;
using Flare.Routing.Estimation.Embeddings;
using Flare.Routing.Estimation.Index;

namespace Flare.Web.Hosting;

/// <summary>
/// <c>eval-estimator</c>: builds the quality/length estimator from history files, estimates held-out queries and
/// prints, as JSON, the quality MAE per model and overall, the output-length MAPE where lengths are known, and the
/// index's recall@k against exact search — for Flare's defaults (or <c>--k</c>/<c>--shrinkage</c>) and PORT's plain
/// k = 5 mean. Touches neither the database nor the web host.
/// </summary>
/// <remarks>Exit codes: 0 evaluated, 1 a file could not be read, 2 bad arguments.</remarks>
internal static class EvalEstimatorVerb
{
    public const string Name = "eval-estimator";

    public const string Usage = "eval-estimator --history F --queries F ...";

    public const string Summary = "Measure the quality/length estimator on held-out prompts and print JSON (no database; eval-estimator --help).";

    private const int MaxIssuesShown = 20;

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

        HistoryDatasets.TryParseFormat(options["format"], out var format);
        var total = Stopwatch.StartNew();
        var load = Stopwatch.StartNew();
        var history = await LoadAsync(options["history"], format, currentDirectory, stderr);
        var queries = options.TryGetValue("queries", out var q) ? await LoadAsync(q, format, currentDirectory, stderr) : ([], new JsonArray());
        if (history.Entries is null || queries.Entries is null)
        {
            return 1;
        }

        load.Stop();
        var flare = EstimatorOptions.Default with
        {
            K = options.TryGetValue("k", out var k) ? int.Parse(k, CultureInfo.InvariantCulture) : EstimatorOptions.Default.K,
            Shrinkage = options.TryGetValue("shrinkage", out var m) ? double.Parse(m, CultureInfo.InvariantCulture) : EstimatorOptions.Default.Shrinkage,
        };
        var recallK = options.TryGetValue("recall-k", out var rk) ? int.Parse(rk, CultureInfo.InvariantCulture) : 10;

        var build = Stopwatch.StartNew();
        var estimator = Build(history.Entries, flare);
        build.Stop();

        var json = new JsonObject
        {
            ["history"] = new JsonObject
            {
                ["files"] = history.Files,
                ["rows"] = history.Entries.Count,
                ["distinctPrompts"] = estimator.Count,
                ["models"] = new JsonArray([.. estimator.Models.Select(n => (JsonNode)n)]),
            },
            ["queries"] = new JsonObject { ["files"] = queries.Files, ["rows"] = queries.Entries.Count },
            ["format"] = options["format"],
            ["embedder"] = $"{estimator.Embedder.Name} ({estimator.Embedder.Dimensions} dimensions)",
            ["index"] = $"hnsw M={HnswOptions.Default.M} efConstruction={HnswOptions.Default.EfConstruction} efSearch={HnswOptions.Default.EfSearch}",
            ["tokenizer"] = estimator.TokenCounter.Name,
            ["timings"] = new JsonObject
            {
                ["loadSeconds"] = G(load.Elapsed.TotalSeconds),
                ["embedAndIndexSeconds"] = G(build.Elapsed.TotalSeconds),
                ["loadEmbedAndIndexSeconds"] = G(load.Elapsed.TotalSeconds + build.Elapsed.TotalSeconds),
            },
        };

        if (queries.Entries.Count > 0)
        {
            var recall = EstimatorEvaluation.Recall(estimator, [.. queries.Entries.Select(e => e.Prompt)], recallK);
            json["recall"] = new JsonObject { ["k"] = recall.K, ["recall"] = G(recall.Recall), ["queries"] = recall.Queries, ["against"] = "exact search over the same vectors" };
            var errors = EstimatorEvaluation.Evaluate(estimator, queries.Entries, [flare, EstimatorOptions.Port]);
            json["estimators"] = new JsonObject
            {
                ["flare"] = Error(errors[0]),
                ["port"] = Error(errors[1]),
            };
            json["flareBetterThanPort"] = errors[0].QualityMae < errors[1].QualityMae;
        }

        if (options.TryGetValue("cross-validate", out var foldsText))
        {
            var folds = int.Parse(foldsText, CultureInfo.InvariantCulture);
            var cv = EstimatorEvaluation.CrossValidate(history.Entries, rows => Build(rows, flare), EstimatorEvaluation.DefaultGrid, folds);
            var port = cv.Points.First(p => p.Options == EstimatorOptions.Port);
            json["crossValidation"] = new JsonObject
            {
                ["on"] = "the history files only",
                ["folds"] = cv.Folds,
                ["seed"] = cv.Seed,
                ["best"] = Point(cv.Best),
                ["port"] = Point(port),
                ["grid"] = new JsonArray([.. cv.Points.Select(p => (JsonNode)Point(p))]),
            };
        }

        json["timings"]!["totalSeconds"] = G(total.Elapsed.TotalSeconds);
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

    private static HistoryEstimator Build(IReadOnlyList<HistoryEntry> rows, EstimatorOptions options) =>
        HistoryEstimator.Build(rows, HashedNgramEmbedder.Fit(rows.Select(r => r.Prompt)), O200kTokenCounter.Shared, options: options);

    private static async Task<(List<HistoryEntry>? Entries, JsonArray Files)> LoadAsync(string list, HistoryFormat format, string currentDirectory, TextWriter stderr)
    {
        var entries = new List<HistoryEntry>();
        var files = new JsonArray();
        foreach (var file in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var path = Path.GetFullPath(file, currentDirectory);
            var dataset = HistoryDatasets.Read(path, format);
            if (!dataset.Succeeded)
            {
                await stderr.WriteLineAsync($"flare {Name}: {path}: {dataset.Failure} (relative paths are resolved against {currentDirectory}).");
                return (null, files);
            }

            foreach (var issue in dataset.Issues.Take(MaxIssuesShown))
            {
                await stderr.WriteLineAsync($"  {path}: {issue}");
            }

            entries.AddRange(dataset.Entries);
            files.Add(new JsonObject { ["path"] = path, ["rows"] = dataset.Entries.Count, ["issues"] = dataset.Issues.Count });
        }

        return (entries, files);
    }

    private static JsonObject Error(EstimatorError e) => new()
    {
        ["options"] = e.Options.ToString(),
        ["qualityMae"] = G(e.QualityMae),
        ["qualityRmse"] = G(e.QualityRmse),
        ["pairs"] = e.Pairs,
        ["outputTokensMape"] = e.OutputTokensMape is { } mape ? G(mape) : null,
        ["perModel"] = new JsonObject([.. e.PerModel.Select(p => new KeyValuePair<string, JsonNode?>(p.Model, new JsonObject
        {
            ["qualityMae"] = G(p.QualityMae),
            ["scored"] = p.Scored,
            ["outputTokensMape"] = p.OutputTokensMape is { } pm ? G(pm) : null,
            ["lengths"] = p.Lengths,
        }))]),
    };

    private static JsonObject Point(CrossValidationPoint p) => new()
    {
        ["options"] = p.Options.ToString(),
        ["k"] = p.Options.K,
        ["shrinkage"] = p.Options.Aggregation == NeighbourAggregation.PlainMean ? null : p.Options.Shrinkage,
        ["similarityPower"] = p.Options.Aggregation == NeighbourAggregation.PlainMean ? null : p.Options.SimilarityPower,
        ["qualityMae"] = G(p.QualityMae),
    };

    private static string Help =>
        $$"""
        Usage: dotnet run --project Flare.Web -- {{Name}} --history F1[,F2..] --queries F1[,F2..] --format routerbench|llmrouter|jsonl|csv [options]

        Builds the estimator (built-in hashed n-gram embedder, HNSW index, o200k tokenizer) from the history files,
        estimates every query prompt and prints, as JSON: the quality MAE per model and overall, the output-length
        MAPE where the queries have lengths, and the index's recall@k against exact search; for Flare's defaults
        (k={{EstimatorOptions.Default.K}}, shrinkage m={{EstimatorOptions.Default.Shrinkage.ToString(CultureInfo.InvariantCulture)}}, or --k/--shrinkage) and for PORT's plain mean of k=5 neighbours.
        Relative paths are resolved against the current directory (under dotnet run: Flare.Web/), so prefer absolute
        paths, e.g. --history "$PWD/../shared/data/LLMRouter/data/dcrouter_preprocessed/train.json".

        Formats:
          llmrouter     JSON array of {"question": "...", "scores": {"model": 0.8, ...} } (LLMRouter's dcrouter files).
          jsonl         One {"prompt": "...", "scores": {...}, "output_tokens": {...}?, "cost_usd": {...}? } per line.
          routerbench   RouterBench's wide CSV: sample_id, prompt, eval_name, a score column per model,
                        <model>|total_cost, <model>|model_response (output tokens counted in the response).
          csv           One model's outcome a row: prompt, model, score, output_tokens?, cost_usd?, id? (a header).

        Options:
          --history FILES         Comma-separated history files (required).
          --queries FILES         Comma-separated held-out files to estimate (required unless --cross-validate).
          --format NAME           Layout of all the files (required).
          --k K                   Neighbours for Flare's estimator (default {{EstimatorOptions.Default.K}}).
          --shrinkage M           Shrinkage strength m ≥ 0 (default {{EstimatorOptions.Default.Shrinkage.ToString(CultureInfo.InvariantCulture)}}).
          --recall-k K            Neighbours compared for recall (default 10).
          --cross-validate FOLDS  Also cross-validate the default grid of k, m and p on the history files alone
                                  (how Flare's defaults were chosen).
          --out FILE              Also write the JSON to FILE.

        """;

    private static readonly HashSet<string> Known = ["history", "queries", "format", "k", "shrinkage", "recall-k", "cross-validate", "out"];

    private static bool TryParse(string[] args, out Dictionary<string, string> options, out string error)
    {
        if (!VerbOptions.TryParse(args, Known, out options, out error))
        {
            return false;
        }

        if (!options.ContainsKey("history"))
        {
            error = "--history FILES is required.";
            return false;
        }

        if (!options.ContainsKey("queries") && !options.ContainsKey("cross-validate"))
        {
            error = "--queries FILES is required (or --cross-validate FOLDS).";
            return false;
        }

        if (!HistoryDatasets.TryParseFormat(options.GetValueOrDefault("format"), out _))
        {
            error = "--format must be routerbench, llmrouter, jsonl or csv.";
            return false;
        }

        foreach (var (name, min, max) in new[] { ("k", 1, 1000), ("recall-k", 1, 1000), ("cross-validate", 2, 100) })
        {
            if (options.TryGetValue(name, out var v) && (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < min || n > max))
            {
                error = $"--{name} must be a whole number from {min} to {max}.";
                return false;
            }
        }

        if (options.TryGetValue("shrinkage", out var s)
            && (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !(d >= 0) || !double.IsFinite(d)))
        {
            error = "--shrinkage must be a number ≥ 0.";
            return false;
        }

        return true;
    }

    // Six significant digits: the figures are measurements, not exact values.
    private static double G(double value) => double.IsFinite(value)
        ? double.Parse(value.ToString("G6", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)
        : value;
}
