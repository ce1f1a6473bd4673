using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flare.Routing.Estimation;
using Flare.Routing.Estimation.Datasets;
using Flare.Routing.Optimization;
using Flare.Routing.Optimization.Evaluation;

namespace Flare.Web.Hosting;

/// <summary>
/// <c>eval</c>: replays a labelled dataset offline through every policy and prints the figures of
/// ROUTING.md §5 as one JSON document (single models, oracle, each policy's trade-off points and AIQ, PORT
/// under the paper's protocol), plus an HTML plot of the fronts. Touches neither the database nor the host.
/// </summary>
/// <remarks>Exit codes: 0 evaluated, 1 a file could not be read or the data cannot be costed, 2 bad arguments.</remarks>
internal static class EvalVerb
{
    public const string Name = "eval";
    public const string Usage = "eval --history F --queries F --format ...";
    public const string Summary = "Replay a labelled dataset through every routing policy and print AIQ, fronts and PORT's figures as JSON (eval --help).";

    private const string Help = """
        Usage: eval --history F1,F2,.. --queries F1,F2,.. --format routerbench|llmrouter|jsonl|csv
                    [--prices FILE] [--policies p1,p2,..] [--budget 1.0] [--seeds 10] [--out FILE] [--plot FILE.html]

          --history    labelled prompts the estimator learns from (comma-separated files)
          --queries    labelled prompts to route (same format); their scores are the truth
          --prices     price table, JSON {model: {"input_price": USD/1M, "output_price": USD/1M}} (LLMRouter's default_llm.json)
          --policies   any of flare, flare-knn5, port, port-fallback, port-once, threshold, best-quality, cheapest, random, round-robin (default: all)
          --budget     PORT's budget factor × (cheapest model on every query) (default 1.0)
          --seeds      arrival orders for PORT and random (default 10)
          --port-alpha PORT's scale from quality to USD per query (default 1e-4, the paper's)
          --port-epsilon PORT's learning fraction (default 0.025, the paper's)
          --out        write the JSON here instead of standard output
          --plot       write an HTML page with the cost/quality fronts (inline SVG, no scripts)
        Relative paths are taken from the current directory.

        """;

    private static readonly HashSet<string> Known =
        ["history", "queries", "format", "prices", "policies", "budget", "seeds", "out", "plot", "port-alpha", "port-epsilon"];

    public static Task<int> RunAsync(string[] args) => RunAsync(args, Console.Out, Console.Error, Environment.CurrentDirectory);

    internal static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, string cwd)
    {
        if (args.Any(a => a is "--help" or "-h"))
        {
            await stdout.WriteAsync(Help);
            return 0;
        }

        if (!VerbOptions.TryParse(args, Known, out var options, out var parseError))
        {
            return await UsageAsync(stderr, parseError);
        }

        foreach (var required in new[] { "history", "queries", "format" })
        {
            if (!options.ContainsKey(required))
            {
                return await UsageAsync(stderr, $"--{required} is required.");
            }
        }

        if (!HistoryDatasets.TryParseFormat(options["format"], out var format))
        {
            return await UsageAsync(stderr, $"unknown --format '{options["format"]}' (routerbench, llmrouter, jsonl or csv).");
        }

        var evalOptions = new EvalOptions();
        if (options.TryGetValue("policies", out var p))
        {
            var policies = p.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var unknown = policies.Except(EvalRunner.AllPolicies).ToList();
            if (unknown.Count > 0)
            {
                return await UsageAsync(stderr, $"unknown policies: {string.Join(", ", unknown)}.");
            }

            evalOptions = evalOptions with { Policies = policies };
        }

        if (options.TryGetValue("budget", out var b))
        {
            if (!double.TryParse(b, CultureInfo.InvariantCulture, out var budget) || !(budget > 0))
            {
                return await UsageAsync(stderr, "--budget must be a positive number.");
            }

            evalOptions = evalOptions with { BudgetFactor = budget };
        }

        if (options.TryGetValue("port-alpha", out var a))
        {
            if (!double.TryParse(a, CultureInfo.InvariantCulture, out var alpha) || !(alpha > 0))
            {
                return await UsageAsync(stderr, "--port-alpha must be a positive number.");
            }

            evalOptions = evalOptions with { PortAlpha = alpha };
        }

        if (options.TryGetValue("port-epsilon", out var e))
        {
            if (!double.TryParse(e, CultureInfo.InvariantCulture, out var epsilon) || epsilon is <= 0 or >= 1)
            {
                return await UsageAsync(stderr, "--port-epsilon must be between 0 and 1.");
            }

            evalOptions = evalOptions with { PortEpsilon = epsilon };
        }

        if (options.TryGetValue("seeds", out var s))
        {
            if (!int.TryParse(s, CultureInfo.InvariantCulture, out var seeds) || seeds is < 1 or > 1000)
            {
                return await UsageAsync(stderr, "--seeds must be a whole number from 1 to 1000.");
            }

            evalOptions = evalOptions with { Seeds = seeds };
        }

        var tokens = O200kTokenCounter.Shared;
        List<HistoryEntry> history, queries;
        Dictionary<string, ModelPrice>? prices = null;
        try
        {
            history = Load(options["history"], format, cwd, tokens, stderr);
            queries = Load(options["queries"], format, cwd, tokens, stderr);
            if (options.TryGetValue("prices", out var pricesFile))
            {
                prices = ReadPrices(Path.GetFullPath(pricesFile, cwd));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or InvalidDataException)
        {
            await stderr.WriteLineAsync($"flare {Name}: {ex.Message}");
            return 1;
        }

        EvalResult result;
        try
        {
            result = EvalRunner.Run(history, queries, prices, evalOptions, tokens);
        }
        catch (ArgumentException ex)
        {
            await stderr.WriteLineAsync($"flare {Name}: {ex.Message}");
            return 1;
        }

        var json = ToJson(result).ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        if (options.TryGetValue("out", out var outFile))
        {
            await File.WriteAllTextAsync(Path.GetFullPath(outFile, cwd), json);
        }
        else
        {
            await stdout.WriteLineAsync(json);
        }

        if (options.TryGetValue("plot", out var plot))
        {
            await File.WriteAllTextAsync(Path.GetFullPath(plot, cwd), Plot(result));
        }

        return 0;
    }

    private static async Task<int> UsageAsync(TextWriter stderr, string message)
    {
        await stderr.WriteLineAsync($"flare {Name}: {message}");
        await stderr.WriteAsync(Help);
        return 2;
    }

    private static List<HistoryEntry> Load(string list, HistoryFormat format, string cwd, ITokenCounter tokens, TextWriter stderr)
    {
        var entries = new List<HistoryEntry>();
        foreach (var file in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var dataset = HistoryDatasets.Read(Path.GetFullPath(file, cwd), format, tokens);
            if (!dataset.Succeeded)
            {
                throw new InvalidDataException($"{file}: {dataset.Failure}");
            }

            foreach (var issue in dataset.Issues.Take(10))
            {
                stderr.WriteLine($"flare {Name}: {file}: skipped {issue}");
            }

            entries.AddRange(dataset.Entries);
        }

        return entries;
    }

    /// <summary>LLMRouter's price table: {model: {"input_price": …, "output_price": …}} in USD per million tokens.</summary>
    internal static Dictionary<string, ModelPrice> ReadPrices(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new InvalidDataException($"{path}: not a JSON object.");
        var prices = new Dictionary<string, ModelPrice>(StringComparer.Ordinal);
        foreach (var (model, node) in root)
        {
            if (node?["input_price"]?.GetValue<double>() is { } input && node["output_price"]?.GetValue<double>() is { } output)
            {
                prices[model] = new ModelPrice(input, output);
            }
        }

        return prices;
    }

    private static JsonObject ToJson(EvalResult r)
    {
        static JsonArray Point(CostQuality p) => [p.CostPerQuery, p.Quality];
        var report = r.Report;
        var policies = new JsonObject();
        var fractions = new JsonObject();
        foreach (var curve in report.Policies)
        {
            policies[curve.Policy] = new JsonObject
            {
                ["points"] = new JsonArray(curve.Points.Select(p => (JsonNode)Point(p)).ToArray()),
                ["aiq"] = curve.Aiq,
            };
            fractions[curve.Policy] = curve.CostFractionFor95PctOfBestSingle;
        }

        var result = new JsonObject
        {
            ["history_prompts"] = r.HistoryPrompts,
            ["query_prompts"] = r.QueryPrompts,
            ["assumptions"] = new JsonArray(r.Assumptions.Select(a => (JsonNode)JsonValue.Create(a)!).ToArray()),
            ["cost_range"] = new JsonArray(report.CostMin, report.CostMax),
            ["single_models"] = new JsonObject(report.SingleModels.Select(kv =>
                KeyValuePair.Create(kv.Key, (JsonNode?)new JsonObject { ["cost_per_query"] = kv.Value.CostPerQuery, ["quality"] = kv.Value.Quality }))),
            ["oracle"] = new JsonObject { ["cost_per_query"] = report.Oracle.CostPerQuery, ["quality"] = report.Oracle.Quality },
            ["policies"] = policies,
            ["aiq_single_models_hull"] = report.AiqSingleModelsHull,
            ["oracle_aiq"] = report.OracleAiq,
            ["cost_fraction_for_95pct_of_best_single"] = fractions,
        };
        foreach (var port in r.Port)
        {
            result[port.Mode.Replace('-', '_')] = new JsonObject
            {
                ["protocol"] = port.Mode switch
                {
                    "port" => "PORT paper's protocol: budget = cheapest model on every query × budget factor, weighted split, ε = 0.025, drop on exhausted budget, plain k=5 estimates; prices learned from the first ε and re-learned each time the stream seen doubles (Flare)",
                    "port_once" or "port-once" => "As port, but prices learned once from the first ε, as in the paper",
                    _ => "Flare's fallback: as port, but a query whose model has no budget left goes to the next model with a positive score that still has some",
                },
                ["budget_factor"] = port.BudgetFactor,
                ["seeds"] = port.Seeds,
                ["perf"] = port.Perf,
                ["cost"] = port.Cost,
                ["served"] = port.Served,
                ["approx_opt_perf"] = port.ApproxOptPerf,
                ["relative_to_approx_opt"] = port.RelativeToApproxOpt,
            };
        }

        return result;
    }

    /// <summary>A self-contained HTML page: cost per query against mean quality, each policy's hull as a line.</summary>
    internal static string Plot(EvalResult r)
    {
        const int w = 860, h = 520, left = 70, right = 200, top = 30, bottom = 60;
        var report = r.Report;
        var all = report.Policies.SelectMany(p => p.Points).Concat(report.SingleModels.Values).Append(report.Oracle).ToList();
        var (xmin, xmax) = (all.Min(p => p.CostPerQuery), all.Max(p => p.CostPerQuery));
        var (ymin, ymax) = (Math.Min(all.Min(p => p.Quality), 0.0), Math.Max(all.Max(p => p.Quality), 1e-9));
        double X(double c) => left + (c - xmin) / Math.Max(1e-18, xmax - xmin) * (w - left - right);
        double Y(double q) => h - bottom - (q - ymin) / Math.Max(1e-18, ymax - ymin) * (h - top - bottom);
        string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
        string[] colours = ["#d9480f", "#1864ab", "#2b8a3e", "#862e9c", "#e67700", "#0b7285", "#c2255c", "#5c940d", "#495057"];
        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"system-ui,sans-serif\" font-size=\"12\">");
        svg.Append($"<line x1=\"{left}\" y1=\"{h - bottom}\" x2=\"{w - right}\" y2=\"{h - bottom}\" stroke=\"#333\"/><line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{h - bottom}\" stroke=\"#333\"/>");
        svg.Append($"<text x=\"{(left + w - right) / 2}\" y=\"{h - 20}\" text-anchor=\"middle\">cost per query (USD) — {WebUtility.HtmlEncode($"{xmin:G3} to {xmax:G3}")}</text>");
        svg.Append($"<text x=\"18\" y=\"{(top + h - bottom) / 2}\" transform=\"rotate(-90 18 {(top + h - bottom) / 2})\" text-anchor=\"middle\">mean quality</text>");
        for (var k = 0; k <= 4; k++)
        {
            var q = ymin + (ymax - ymin) * k / 4;
            svg.Append($"<text x=\"{left - 6}\" y=\"{F(Y(q) + 4)}\" text-anchor=\"end\">{q:0.00}</text>");
        }

        var legend = top;
        for (var i = 0; i < report.Policies.Count; i++)
        {
            var curve = report.Policies[i];
            var colour = colours[i % colours.Length];
            var hull = Aiq.Hull(curve.Points);
            svg.Append($"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{string.Join(' ', hull.Select(p => $"{F(X(p.CostPerQuery))},{F(Y(p.Quality))}"))}\"/>");
            foreach (var p in curve.Points)
            {
                svg.Append($"<circle cx=\"{F(X(p.CostPerQuery))}\" cy=\"{F(Y(p.Quality))}\" r=\"2.5\" fill=\"{colour}\" opacity=\"0.6\"/>");
            }

            svg.Append($"<rect x=\"{w - right + 15}\" y=\"{legend - 9}\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{w - right + 30}\" y=\"{legend}\">{WebUtility.HtmlEncode(curve.Policy)} (AIQ {curve.Aiq:0.000})</text>");
            legend += 18;
        }

        foreach (var (model, p) in report.SingleModels)
        {
            svg.Append($"<rect x=\"{F(X(p.CostPerQuery) - 4)}\" y=\"{F(Y(p.Quality) - 4)}\" width=\"8\" height=\"8\" fill=\"none\" stroke=\"#000\"/>");
            svg.Append($"<text x=\"{F(X(p.CostPerQuery) + 6)}\" y=\"{F(Y(p.Quality) - 6)}\" font-size=\"10\">{WebUtility.HtmlEncode(model)}</text>");
        }

        svg.Append($"<text x=\"{F(X(report.Oracle.CostPerQuery))}\" y=\"{F(Y(report.Oracle.Quality))}\" text-anchor=\"middle\" font-size=\"16\">★</text>");
        svg.Append($"<text x=\"{w - right + 15}\" y=\"{legend + 10}\">□ single models (hull AIQ {report.AiqSingleModelsHull:0.000})</text>");
        svg.Append($"<text x=\"{w - right + 15}\" y=\"{legend + 28}\">★ oracle (AIQ {report.OracleAiq:0.000})</text>");
        svg.Append("</svg>");
        return $"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Flare eval: cost/quality fronts</title></head><body>" +
               $"<h1 style=\"font-family:system-ui,sans-serif\">Cost/quality fronts</h1><p style=\"font-family:system-ui,sans-serif\">{r.QueryPrompts} queries routed with an estimator built from {r.HistoryPrompts} history prompts. Lines are each policy's upper convex hull (the curve AIQ integrates).</p>{svg}</body></html>";
    }
}
