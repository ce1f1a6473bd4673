using Flare.Routing.Estimation;
using Flare.Routing.Estimation.Embeddings;
using Flare.Routing.Estimation.Index;

namespace Flare.Routing.Optimization.Evaluation;

/// <summary>Per-token prices of a model, USD per million tokens.</summary>
public sealed record ModelPrice(double InputPerMTokUsd, double OutputPerMTokUsd);

/// <summary>What <c>eval</c> runs: which policies, PORT's budget and how many arrival orders.</summary>
public sealed record EvalOptions
{
    public IReadOnlyList<string> Policies { get; init; } = EvalRunner.AllPolicies;
    public double BudgetFactor { get; init; } = 1.0;
    public int Seeds { get; init; } = 10;

    /// <summary>Output tokens assumed for a model when neither history nor query says (documented in the report).</summary>
    public int DefaultOutputTokens { get; init; } = 256;

    /// <summary>PORT's α, the scale from quality to USD per query (paper: 1e-4).</summary>
    public double PortAlpha { get; init; } = 1e-4;

    /// <summary>PORT's learning fraction ε (paper: 0.025).</summary>
    public double PortEpsilon { get; init; } = 0.025;
}

/// <summary>PORT's figures under the paper's protocol, averaged over arrival orders.</summary>
public sealed record PortFigures(string Mode, double Perf, double Cost, double Served, double ApproxOptPerf, double RelativeToApproxOpt, int Seeds, double BudgetFactor);

/// <summary>Everything the <c>eval</c> verb prints.</summary>
public sealed record EvalResult(
    EvaluationReport Report,
    IReadOnlyList<PortFigures> Port,
    IReadOnlyList<string> Assumptions,
    int HistoryPrompts,
    int QueryPrompts);

/// <summary>
/// The offline evaluation behind the <c>eval</c> verb: builds the estimator from history (Flare's defaults and
/// PORT's plain k = 5), estimates every query, and replays each policy's trade-off sweep on the queries' true
/// scores (ROUTING.md §5).
/// </summary>
public static class EvalRunner
{
    public static readonly IReadOnlyList<string> AllPolicies =
        ["flare", "flare-knn5", "port", "port-fallback", "port-once", "threshold", "best-quality", "cheapest", "random", "round-robin"];

    public static EvalResult Run(IReadOnlyList<HistoryEntry> history, IReadOnlyList<HistoryEntry> queries,
        IReadOnlyDictionary<string, ModelPrice>? prices, EvalOptions options, ITokenCounter tokens)
    {
        var models = queries.SelectMany(q => q.Outcomes.Where(o => o.Score is not null).Select(o => o.Model)).Distinct().OrderBy(m => m, StringComparer.Ordinal).ToList();
        var assumptions = new List<string>();
        var embedder = new HashedNgramEmbedder();
        var estimator = HistoryEstimator.Build(history, embedder, tokens, new HnswIndex(embedder.Dimensions));

        var flare = Estimate(estimator, queries, models, prices, options, tokens, EstimatorOptions.Default, assumptions);
        var knn5 = Estimate(estimator, queries, models, prices, options, tokens, EstimatorOptions.Port, assumptions);
        assumptions = assumptions.Distinct().ToList();

        var curves = new Dictionary<string, IReadOnlyList<CostQuality>>();
        var lambdas = OfflineRouters.DefaultLambdas();
        foreach (var policy in options.Policies)
        {
            IReadOnlyList<CostQuality>? points = policy switch
            {
                "flare" => OfflineRouters.Weighted(flare, lambdas).Select(p => flare.Score(p.Assignment)).ToList(),
                "flare-knn5" => OfflineRouters.Weighted(knn5, lambdas).Select(p => knn5.Score(p.Assignment)).ToList(),
                "threshold" => OfflineRouters.Threshold(flare, Enumerable.Range(0, 41).Select(k => -1 + k * 0.05).ToList()).Select(p => flare.Score(p.Assignment)).ToList(),
                "best-quality" => [flare.Score(OfflineRouters.BestQuality(flare))],
                "cheapest" => [flare.Score(OfflineRouters.Cheapest(flare))],
                "round-robin" => [flare.Score(OfflineRouters.RoundRobin(flare))],
                "random" => Enumerable.Range(0, options.Seeds).Select(seed => flare.Score(OfflineRouters.Random(flare, seed))).ToList(),
                "port" => PortSweep(knn5, ExhaustedBudget.Drop, PriceUpdates.Doubling, options),
                "port-fallback" => PortSweep(knn5, ExhaustedBudget.Fallback, PriceUpdates.Doubling, options),
                "port-once" => PortSweep(knn5, ExhaustedBudget.Drop, PriceUpdates.Once, options),
                _ => throw new ArgumentException($"Unknown policy '{policy}'. Known: {string.Join(", ", AllPolicies)}."),
            };
            curves[policy] = points;
        }

        var portFigures = new List<PortFigures>();
        foreach (var (name, mode, updates) in PortVariants.Where(v => options.Policies.Contains(v.Name)))
        {
            portFigures.Add(PortProtocol(name, knn5, mode, updates, options));
        }

        return new EvalResult(RouterEvaluation.Evaluate(flare, curves), portFigures, assumptions, history.Count, queries.Count);
    }

    /// <summary>PORT as Flare runs it (prices re-learned as the stream doubles; drop, or Flare's fallback) and as the paper does (prices learned once).</summary>
    private static readonly (string Name, ExhaustedBudget Mode, PriceUpdates Updates)[] PortVariants =
        [("port", ExhaustedBudget.Drop, PriceUpdates.Doubling), ("port-fallback", ExhaustedBudget.Fallback, PriceUpdates.Doubling), ("port-once", ExhaustedBudget.Drop, PriceUpdates.Once)];

    /// <summary>PORT's points for AIQ: one per budget factor, each the mean over arrival orders of (cost, quality) per query.</summary>
    private static List<CostQuality> PortSweep(EvaluationSet s, ExhaustedBudget mode, PriceUpdates updates, EvalOptions options)
    {
        var w = new PortWorkload(s.EstimatedQuality, s.EstimatedCost, Zeroed(s.TrueQuality), s.TrueCost);
        double[] factors = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13, 20, 40];
        return factors.Select(f =>
        {
            var runs = Enumerable.Range(0, options.Seeds).Select(seed =>
                Port.Run(w, Order(s.Queries, seed), new PortOptions { BudgetFactor = f, OnExhausted = mode, Updates = updates, Seed = seed, Alpha = options.PortAlpha, Epsilon = options.PortEpsilon })).ToList();
            return new CostQuality(runs.Average(r => r.Cost) / s.Queries, runs.Average(r => r.Performance) / s.Queries);
        }).ToList();
    }

    /// <summary>The paper's table: budget = cheapest model on every query × factor, weighted split, ε = 0.025, mean over seeds.</summary>
    private static PortFigures PortProtocol(string name, EvaluationSet s, ExhaustedBudget mode, PriceUpdates updates, EvalOptions options)
    {
        var w = new PortWorkload(s.EstimatedQuality, s.EstimatedCost, Zeroed(s.TrueQuality), s.TrueCost);
        var runs = Enumerable.Range(0, options.Seeds).Select(seed =>
        {
            var order = Order(s.Queries, seed);
            var portOptions = new PortOptions { BudgetFactor = options.BudgetFactor, OnExhausted = mode, Updates = updates, Seed = seed, Alpha = options.PortAlpha, Epsilon = options.PortEpsilon };
            return (Run: Port.Run(w, order, portOptions), Opt: Port.ApproximateOptimum(w, order, portOptions));
        }).ToList();
        var perf = runs.Average(r => r.Run.Performance);
        var opt = runs.Average(r => r.Opt.Performance);
        return new PortFigures(name, perf, runs.Average(r => r.Run.Cost),
            runs.Average(r => r.Run.Served), opt, opt > 0 ? perf / opt : double.NaN, options.Seeds, options.BudgetFactor);
    }

    private static EvaluationSet Estimate(HistoryEstimator estimator, IReadOnlyList<HistoryEntry> queries, IReadOnlyList<string> models,
        IReadOnlyDictionary<string, ModelPrice>? prices, EvalOptions options, ITokenCounter tokens, EstimatorOptions estimatorOptions, List<string> assumptions)
    {
        var n = queries.Count;
        var (eq, ec, tq, tc) = (new double[n][], new double[n][], new double[n][], new double[n][]);
        for (var j = 0; j < n; j++)
        {
            var query = queries[j];
            var estimate = estimator.Estimate(query.Prompt, estimatorOptions);
            (eq[j], ec[j], tq[j], tc[j]) = (new double[models.Count], new double[models.Count], new double[models.Count], new double[models.Count]);
            for (var i = 0; i < models.Count; i++)
            {
                var model = models[i];
                var e = estimate.For(model);
                var truth = query.Outcomes.FirstOrDefault(o => o.Model == model);
                eq[j][i] = e?.Quality ?? 0;
                tq[j][i] = truth?.Score ?? double.NaN;

                var estOut = e?.OutputTokens ?? truth?.OutputTokens;
                if (estOut is null)
                {
                    assumptions.Add($"No output lengths in the data: every answer is assumed to be {options.DefaultOutputTokens} tokens for costing.");
                }

                var price = prices?.GetValueOrDefault(model);
                ec[j][i] = e?.CostUsd ?? PriceOrThrow(price, model, estimate.InputTokens, estOut ?? options.DefaultOutputTokens);
                tc[j][i] = truth?.CostUsd ?? PriceOrThrow(price, model, estimate.InputTokens, truth?.OutputTokens ?? estOut ?? options.DefaultOutputTokens);
            }
        }

        return new EvaluationSet(models, eq, ec, tq, tc);
    }

    private static double PriceOrThrow(ModelPrice? price, string model, int input, double output) =>
        price is null
            ? throw new ArgumentException($"No cost for model '{model}': the data has no costs and the price table (--prices) has no entry for it.")
            : (price.InputPerMTokUsd * input + price.OutputPerMTokUsd * output) / 1_000_000;

    private static double[][] Zeroed(double[][] quality) => quality.Select(r => r.Select(v => double.IsNaN(v) ? 0 : v).ToArray()).ToArray();

    private static int[] Order(int n, int seed)
    {
        var order = Enumerable.Range(0, n).ToArray();
        new Random(seed).Shuffle(order);
        return order;
    }
}
